/*
 * kite: command line and start-up, in the order QEMU users expect.
 *
 * Options are parsed into a Config first (so that "-M pc -m 1G" and "-m 1G -M pc" mean the
 * same), then objects are created: chardevs, -object, the machine, the accelerator, the
 * board, -device, and finally the VM starts (unless -S).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "gdbstub/gdbstub.h"
#include "kite/osdep.h"
#include "kite/error.h"
#include "kite/log.h"
#include "kite/opts.h"
#include "kite/cutils.h"
#include "kite/main-loop.h"
#include "kite/thread.h"
#include "kite/chardev.h"
#include "hw/boards.h"
#include "hw/qdev.h"
#include "accel/accel.h"
#include "system/runstate.h"
#include "system/qdev-monitor.h"
#include "monitor/monitor.h"
#include "monitor/hmp.h"
#include "system/system.h"
#include "system/qtest.h"
#include "kite/memory.h"
#include "block/blockdev.h"
#include "block/qmp-block.h"
#include "net/net.h"
#include "ui/vnc-server.h"
#include "ui/console.h"
#include "ui/sdl.h"
#include "monitor/qmp.h"
#include "hw/loader.h"

typedef enum OptArg { NO_ARG, HAS_ARG } OptArg;

/* What an option does today: handled, or parsed and refused until its subsystem lands. */
typedef enum OptStatus { OPT_OK, OPT_NOT_YET } OptStatus;

typedef struct KiteOption {
    const char *name;
    OptArg arg;
    OptStatus status;
    const char *help;
} KiteOption;

static const KiteOption options[] = {
    { "h", NO_ARG, OPT_OK, "display this help and exit" },
    { "help", NO_ARG, OPT_OK, NULL },
    { "version", NO_ARG, OPT_OK, "display version information and exit" },
    { "M", HAS_ARG, OPT_OK, "machine type and properties (-M help for a list)" },
    { "machine", HAS_ARG, OPT_OK, "same as -M" },
    { "accel", HAS_ARG, OPT_OK, "accelerator: kvm, tcg, qtest (may be repeated: first usable wins)" },
    { "enable-kvm", NO_ARG, OPT_OK, "same as -accel kvm" },
    { "cpu", HAS_ARG, OPT_OK, "CPU model (-cpu help for a list)" },
    { "m", HAS_ARG, OPT_OK, "RAM size, MiB by default (e.g. 128, 2G)" },
    { "smp", HAS_ARG, OPT_OK, "[cpus=]n[,maxcpus=][,sockets=][,cores=][,threads=]" },
    { "kernel", HAS_ARG, OPT_OK, "Linux bzImage or multiboot kernel to boot directly" },
    { "initrd", HAS_ARG, OPT_OK, "initial ram disk (multiboot: modules \"a arg,b\")" },
    { "append", HAS_ARG, OPT_OK, "kernel command line" },
    { "bios", HAS_ARG, OPT_OK, "firmware image" },
    { "L", HAS_ARG, OPT_OK, "directory for firmware files" },
    { "device", HAS_ARG, OPT_OK, "add a device (-device help, -device TYPE,help)" },
    { "global", HAS_ARG, OPT_OK, "TYPE.PROP=VALUE: default for a device property" },
    { "object", HAS_ARG, OPT_OK, "create an object (iothread,id=x)" },
    { "chardev", HAS_ARG, OPT_OK, "BACKEND,id=ID[,...]: a character device" },
    { "serial", HAS_ARG, OPT_OK, "redirect the next serial port (stdio, pty, file:, tcp:, ...)" },
    { "debugcon", HAS_ARG, OPT_OK, "redirect the debug console (port 0xe9) to a chardev" },
    { "nographic", NO_ARG, OPT_OK, "no display; serial and monitor share stdio (Ctrl-A h)" },
    { "nodefaults", NO_ARG, OPT_OK, "create no default devices" },
    { "no-reboot", NO_ARG, OPT_OK, "exit instead of rebooting" },
    { "no-hpet", NO_ARG, OPT_OK, "no HPET (the same as -machine hpet=off)" },
    { "no-shutdown", NO_ARG, OPT_OK, "stop (rather than exit) when the guest shuts down" },
    { "action", HAS_ARG, OPT_OK, "reboot=reset|shutdown,shutdown=poweroff|pause,"
      "panic=pause|shutdown|exit-failure|none: what guest events do" },
    { "S", NO_ARG, OPT_OK, "do not start the CPUs at start-up" },
    { "name", HAS_ARG, OPT_OK, "[name=]NAME[,debug-threads=on|off]: the VM's name" },
    { "uuid", HAS_ARG, OPT_OK, "the VM's UUID" },
    { "d", HAS_ARG, OPT_OK, "log items (-d help)" },
    { "D", HAS_ARG, OPT_OK, "log file" },
    { "trace", HAS_ARG, OPT_OK, "[enable=]PATTERN: enable tracepoints" },
    { "vnc", HAS_ARG, OPT_OK, "[host]:N[,password=on][,websocket=on|PORT]: VNC server on TCP port 5900+N" },
    { "display", HAS_ARG, OPT_OK, "none|sdl[,window-close=on|off]: the display front-end" },
    { "qtest", HAS_ARG, OPT_OK, "qtest protocol chardev (tests)" },
    { "qtest-log", HAS_ARG, OPT_OK, "log qtest traffic to a file" },
    { "monitor", HAS_ARG, OPT_OK, "human monitor on a chardev (stdio, unix:PATH,server,wait=off...)" },
    { "mon", HAS_ARG, OPT_OK, "monitor on a chardev (chardev=ID[,mode=readline|control][,pretty=on])" },
    { "qmp", HAS_ARG, OPT_OK, "QMP monitor on a chardev (unix:PATH,server,wait=off...)" },
    { "qmp-pretty", HAS_ARG, OPT_OK, "QMP monitor with pretty-printed JSON" },
    { "drive", HAS_ARG, OPT_OK, "file=,format=,if=ide|virtio|none,id=,cache=,...: a drive" },
    { "blockdev", HAS_ARG, OPT_OK, "driver=,node-name=,file.driver=,...: a block node" },
    { "hda", HAS_ARG, OPT_OK, "IDE disk image (index 0; -hdb, -hdc, -hdd likewise)" },
    { "hdb", HAS_ARG, OPT_OK, NULL },
    { "hdc", HAS_ARG, OPT_OK, NULL },
    { "hdd", HAS_ARG, OPT_OK, NULL },
    { "cdrom", HAS_ARG, OPT_OK, "CD-ROM image (IDE index 2)" },
    { "snapshot", NO_ARG, OPT_OK, "write to temporary overlays" },
    { "netdev", HAS_ARG, OPT_OK, "a network backend (-netdev help lists them)" },
    { "nic", HAS_ARG, OPT_OK, "a NIC with its backend: TYPE[,model=M][,mac=MAC][,...]" },
    { "net", HAS_ARG, OPT_OK, "legacy network option (only 'none'; use -nic or -netdev)" },
    { "vga", HAS_ARG, OPT_OK, "std|none: the graphics card (default std; -vga help)" },
    { "gdb", HAS_ARG, OPT_OK, "gdb stub on a chardev (tcp::1234, unix:PATH, stdio...)" },
    { "s", NO_ARG, OPT_OK, "gdb stub on tcp::1234" },
    { "boot", HAS_ARG, OPT_NOT_YET, "boot order" },
    { "incoming", HAS_ARG, OPT_NOT_YET, "incoming migration" },
    { "loadvm", HAS_ARG, OPT_NOT_YET, "load a snapshot" },
    { "rtc", HAS_ARG, OPT_NOT_YET, "RTC base and clock" },
    { "daemonize", NO_ARG, OPT_NOT_YET, "run in the background" },
    { "pidfile", HAS_ARG, OPT_NOT_YET, "write the process id to a file" },
    { "mem-path", HAS_ARG, OPT_NOT_YET, "back RAM with a file" },
    { "usb", NO_ARG, OPT_NOT_YET, "USB controller" },
    { NULL },
};


/* ----------------------------------------------------------------- help */

static void print_help(void)
{
    printf("usage: kite [options]\n\nKite %s, a PC emulator with QEMU's command line.\n\n",
           KITE_VERSION);
    for (const KiteOption *o = options; o->name; o++) {
        if (!o->help) {
            continue;
        }
        printf("-%-14s %s%s\n", o->name, o->help,
               o->status == OPT_NOT_YET ? " [not supported yet]" : "");
    }
    printf("\nDuring emulation with -nographic: Ctrl-A h for help, Ctrl-A x to quit.\n");
}

static bool is_help_option(const char *s)
{
    return !strcmp(s, "help") || !strcmp(s, "?");
}

/* ------------------------------------------------------------- parsing */

static const KiteOption *find_option(const char *arg)
{
    const char *name = arg + 1;

    if (name[0] == '-') {
        name++;   /* --opt is accepted as -opt */
    }
    for (const KiteOption *o = options; o->name; o++) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}

static void add_opts(GPtrArray **list, const char *optname, const char *optarg,
                     const char *implied)
{
    Error *err = NULL;
    KiteOpts *opts = kite_opts_parse(optarg, implied, &err);

    if (!opts) {
        error_report("-%s %s: %s", optname, optarg, error_get_pretty(err));
        exit(1);
    }
    if (!*list) {
        *list = g_ptr_array_new_with_free_func((GDestroyNotify)kite_opts_free);
    }
    g_ptr_array_add(*list, opts);
}

static void merge_opts(KiteOpts **dst, const char *optname, const char *optarg,
                       const char *implied)
{
    Error *err = NULL;
    KiteOpts *opts = kite_opts_parse(optarg, implied, &err);

    if (!opts) {
        error_report("-%s %s: %s", optname, optarg, error_get_pretty(err));
        exit(1);
    }
    if (!*dst) {
        *dst = kite_opts_new();
    }
    for (guint i = 0; i < opts->items->len; i++) {
        KiteOpt *o = opts->items->pdata[i];
        kite_opts_set(*dst, o->key, o->value);
    }
    kite_opts_free(opts);
}

static void parse_global(const char *arg)
{
    const char *dot = strchr(arg, '.');
    const char *eq = dot ? strchr(dot, '=') : NULL;
    g_autofree char *type = NULL, *prop = NULL;

    if (!dot || !eq || dot == arg || eq == dot + 1) {
        error_report("-global %s: expected TYPE.PROPERTY=VALUE", arg);
        exit(1);
    }
    type = g_strndup(arg, dot - arg);
    prop = g_strndup(dot + 1, eq - dot - 1);
    object_register_global(type, prop, eq + 1);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const KiteOption *o;
        const char *optarg = NULL;

        if (arg[0] != '-') {
            /* QEMU treats a bare argument as -hda. */
            blockdev_add_option("hda", arg);
            continue;
        }
        o = find_option(arg);
        if (!o) {
            error_report("%s: invalid option", arg);
            exit(1);
        }
        if (o->arg == HAS_ARG) {
            if (i + 1 >= argc) {
                error_report("%s: requires an argument", arg);
                exit(1);
            }
            optarg = argv[++i];
        }
        if (o->status == OPT_NOT_YET) {
            error_report("-%s%s%s: not supported yet", o->name, optarg ? " " : "",
                         optarg ? optarg : "");
            exit(1);
        }
        loc_push_option(o->name, optarg);
        config_apply_option(&kite_config, o->name, optarg);
        loc_pop();
    }
}

/*
 * One option into kite_config.  Options that only print something (help, version) exit here;
 * the rest are recorded and acted on later in start-up order.
 */
void config_apply_option(Config *c, const char *name, const char *optarg)
{
    Error *err = NULL;

    if (!strcmp(name, "h") || !strcmp(name, "help")) {
        print_help();
        exit(0);
    } else if (!strcmp(name, "version")) {
        printf("Kite emulator version %s\nCopyright (c) the Kite developers; GPL-2.0-or-later\n",
               KITE_VERSION);
        exit(0);
    } else if (!strcmp(name, "M") || !strcmp(name, "machine")) {
        merge_opts(&c->machine_opts, "machine", optarg, "type");
    } else if (!strcmp(name, "accel")) {
        add_opts(&c->accel_opts, "accel", optarg, "accel");
    } else if (!strcmp(name, "enable-kvm")) {
        add_opts(&c->accel_opts, "accel", "kvm", "accel");
    } else if (!strcmp(name, "cpu")) {
        g_free(c->cpu_model);
        c->cpu_model = g_strdup(optarg);
    } else if (!strcmp(name, "m")) {
        g_free(c->mem_arg);
        c->mem_arg = g_strdup(optarg);
    } else if (!strcmp(name, "smp")) {
        g_free(c->smp_arg);
        c->smp_arg = g_strdup(optarg);
    } else if (!strcmp(name, "kernel")) {
        g_free(c->kernel);
        c->kernel = g_strdup(optarg);
    } else if (!strcmp(name, "initrd")) {
        g_free(c->initrd);
        c->initrd = g_strdup(optarg);
    } else if (!strcmp(name, "append")) {
        g_free(c->append);
        c->append = g_strdup(optarg);
    } else if (!strcmp(name, "bios")) {
        g_free(c->bios);
        c->bios = g_strdup(optarg);
    } else if (!strcmp(name, "L")) {
        g_ptr_array_add(c->firmware_dirs, g_strdup(optarg));
    } else if (!strcmp(name, "device")) {
        add_opts(&c->device_opts, "device", optarg, "driver");
    } else if (!strcmp(name, "global")) {
        parse_global(optarg);
    } else if (!strcmp(name, "object")) {
        add_opts(&c->object_opts, "object", optarg, "qom-type");
    } else if (!strcmp(name, "chardev")) {
        add_opts(&c->chardev_opts, "chardev", optarg, "backend");
    } else if (!strcmp(name, "serial")) {
        g_ptr_array_add(c->serial_args, g_strdup(optarg));
    } else if (!strcmp(name, "debugcon")) {
        g_free(c->debugcon);
        c->debugcon = g_strdup(optarg);
    } else if (!strcmp(name, "nographic")) {
        c->nographic = true;
    } else if (!strcmp(name, "nodefaults")) {
        c->nodefaults = true;
    } else if (!strcmp(name, "no-hpet")) {
        merge_opts(&c->machine_opts, "machine", "hpet=off", "type");
    } else if (!strcmp(name, "no-reboot")) {
        no_reboot = true;
    } else if (!strcmp(name, "no-shutdown")) {
        no_shutdown = true;
    } else if (!strcmp(name, "action")) {
        Error *err = NULL;
        if (!runstate_parse_action(optarg, &err)) {
            error_report_err(err);
            exit(1);
        }
    } else if (!strcmp(name, "S")) {
        c->start_stopped = true;
    } else if (!strcmp(name, "qmp") || !strcmp(name, "qmp-pretty") || !strcmp(name, "mon") ||
               !strcmp(name, "monitor")) {
        monitor_cli_add(name, optarg);
    } else if (!strcmp(name, "gdb") || !strcmp(name, "s")) {
        g_free(c->gdb_dev);
        c->gdb_dev = g_strdup(!strcmp(name, "s") ? "tcp::1234" : optarg);
    } else if (!strcmp(name, "name")) {
        g_autoptr(KiteOpts) o = kite_opts_parse(optarg, "guest", &err);
        bool dbg = false;
        if (!o || !kite_opts_get_bool(o, "debug-threads", &dbg, &err)) {
            error_report_err(err);
            exit(1);
        }
        g_free(c->name);
        c->name = g_strdup(kite_opts_get(o, "guest"));
        kite_opts_get(o, "process");
        if (!kite_opts_check_unused(o, "-name", &err)) {
            error_report_err(err);
            exit(1);
        }
    } else if (!strcmp(name, "uuid")) {
        if (!g_uuid_string_is_valid(optarg)) {
            error_report("-uuid %s: not a valid UUID", optarg);
            exit(1);
        }
        g_free(c->uuid);
        c->uuid = g_ascii_strdown(optarg, -1);
    } else if (!strcmp(name, "d")) {
        if (is_help_option(optarg)) {
            kite_log_print_help(stdout);
            exit(0);
        }
        if (!kite_log_parse_items(optarg, &err)) {
            error_report_err(err);
            exit(1);
        }
    } else if (!strcmp(name, "D")) {
        if (!kite_log_set_file(optarg, &err)) {
            error_report_err(err);
            exit(1);
        }
    } else if (!strcmp(name, "trace")) {
        const char *pat = g_str_has_prefix(optarg, "enable=") ? optarg + 7 : optarg;
        kite_trace_enable_pattern(pat, true);
    } else if (!strcmp(name, "vnc")) {
        vnc_set_option(optarg);
    } else if (!strcmp(name, "vga")) {
        if (is_help_option(optarg)) {
            printf("%-20s %s\n%-20s %s\n", "none", "no graphic card",
                   "std", "standard VGA (default)");
            exit(0);
        }
        if (strcmp(optarg, "std") && strcmp(optarg, "none")) {
            static const char *const qemu_only[] = {
                "cirrus", "vmware", "qxl", "virtio", "xenfb", "tcx", "cg3", NULL
            };
            if (g_strv_contains(qemu_only, optarg)) {
                error_report("-vga %s: not supported (Kite has std and none)", optarg);
            } else {
                error_report("unknown vga type: %s", optarg);
            }
            exit(1);
        }
        g_free(c->vga);
        c->vga = g_strdup(optarg);
    } else if (!strcmp(name, "display")) {
        g_autoptr(KiteOpts) o = kite_opts_parse(optarg, "type", &err);
        const char *type = o ? kite_opts_get(o, "type") : NULL;
        bool close = true;
        if (!o) {
            error_report_err(err);
            exit(1);
        }
        if (is_help_option(type)) {
            printf("Available display backend types:\nnone\n%s", sdl_display_built() ? "sdl\n" : "");
            exit(0);
        }
        if (!strcmp(type, "sdl")) {
            if (!kite_opts_get_bool(o, "window-close", &close, &err)) {
                error_report_err(err);
                exit(1);
            }
        } else if (strcmp(type, "none")) {
            error_report("-display %s: unknown display type (-display help lists them)",
                         optarg);
            exit(1);
        }
        if (!kite_opts_check_unused(o, "-display", &err)) {
            error_report_err(err);
            exit(1);
        }
        c->display_set = true;
        c->display_none = !strcmp(type, "none");
        c->display_sdl = !strcmp(type, "sdl");
        c->sdl_window_close = close;
    } else if (!strcmp(name, "netdev")) {
        add_opts(&c->netdev_opts, "netdev", optarg, "type");
        c->net_set = true;
    } else if (!strcmp(name, "nic")) {
        c->net_set = true;
        if (!c->nic_args) {
            c->nic_args = g_ptr_array_new_with_free_func(g_free);
        }
        g_ptr_array_add(c->nic_args, g_strdup(optarg));
    } else if (!strcmp(name, "net")) {
        /* "-net none": no default NIC. */
        c->net_set = true;
        if (strcmp(optarg, "none")) {
            error_report("the legacy -net option is not supported (only -net none); "
                         "use -nic or -netdev with -device");
            exit(1);
        }
    } else if (blockdev_is_option(name)) {
        blockdev_add_option(name, optarg);
    } else if (!strcmp(name, "qtest")) {
        g_free(c->qtest_chardev);
        c->qtest_chardev = g_strdup(optarg);
    } else if (!strcmp(name, "qtest-log")) {
        g_free(c->qtest_log);
        c->qtest_log = g_strdup(optarg);
    } else {
        error_report("-%s: unhandled option", name);
        exit(1);
    }
}

/* --------------------------------------------------------------- start-up */

static void handle_help_requests(void)
{
    const char *type;

    for (guint i = 0; kite_config.device_opts && i < kite_config.device_opts->len; i++) {
        KiteOpts *o = kite_config.device_opts->pdata[i];
        const char *driver = kite_opts_get(o, "driver");
        if (driver && is_help_option(driver)) {
            qdev_print_device_list(stdout);
            exit(0);
        }
        if (kite_opts_has(o, "help")) {
            ObjectClass *oc = driver ? object_class_by_name(driver) : NULL;
            if (!oc || !object_class_dynamic_cast(oc, TYPE_DEVICE)) {
                error_report("'%s' is not a valid device model name", driver ? driver : "");
                exit(1);
            }
            qdev_print_props(stdout, driver);
            exit(0);
        }
    }
    type = kite_config.machine_opts ? kite_opts_get(kite_config.machine_opts, "type") : NULL;
    if (type && is_help_option(type)) {
        machine_print_list(stdout);
        exit(0);
    }
    if (kite_config.machine_opts && kite_opts_has(kite_config.machine_opts, "help")) {
        MachineClass *mc = machine_find_class(type);
        if (!mc) {
            error_report("unknown machine '%s'", type ? type : "");
            exit(1);
        }
        qdev_print_props(stdout, object_class_get_name(OBJECT_CLASS(mc)));
        exit(0);
    }
    for (guint i = 0; kite_config.accel_opts && i < kite_config.accel_opts->len; i++) {
        const char *a = kite_opts_get(kite_config.accel_opts->pdata[i], "accel");
        if (a && is_help_option(a)) {
            accel_print_list(stdout);
            exit(0);
        }
    }
    for (guint i = 0; kite_config.chardev_opts && i < kite_config.chardev_opts->len; i++) {
        const char *b = kite_opts_get(kite_config.chardev_opts->pdata[i], "backend");
        if (b && is_help_option(b)) {
            chardev_print_backends(stdout);
            exit(0);
        }
    }
    for (guint i = 0; kite_config.netdev_opts && i < kite_config.netdev_opts->len; i++) {
        const char *t = kite_opts_get(kite_config.netdev_opts->pdata[i], "type");
        if (t && is_help_option(t)) {
            netdev_print_backends(stdout);
            exit(0);
        }
    }
    for (guint i = 0; kite_config.nic_args && i < kite_config.nic_args->len; i++) {
        g_autoptr(KiteOpts) o = kite_opts_parse(kite_config.nic_args->pdata[i], "type", NULL);
        const char *t = o ? kite_opts_get(o, "type") : NULL;
        const char *model = o ? kite_opts_get(o, "model") : NULL;
        if (t && is_help_option(t)) {
            netdev_print_backends(stdout);
            exit(0);
        }
        if (model && is_help_option(model)) {
            static const char *const nic_models[] = { "e1000", "virtio-net-pci" };
            printf("Available NIC models:\n");
            for (unsigned j = 0; j < ARRAY_SIZE(nic_models); j++) {
                if (object_class_by_name(nic_models[j])) {
                    printf("%s\n", nic_models[j]);
                }
            }
            exit(0);
        }
    }
    if (kite_config.cpu_model && is_help_option(kite_config.cpu_model)) {
        cpu_print_models(stdout);
        exit(0);
    }
    for (guint i = 0; kite_config.object_opts && i < kite_config.object_opts->len; i++) {
        const char *t = kite_opts_get(kite_config.object_opts->pdata[i], "qom-type");
        if (t && is_help_option(t)) {
            user_object_print_types(stdout);
            exit(0);
        }
    }
}

static void create_chardevs(void)
{
    for (guint i = 0; kite_config.chardev_opts && i < kite_config.chardev_opts->len; i++) {
        Error *err = NULL;
        KiteOpts *o = kite_config.chardev_opts->pdata[i];
        g_autofree char *s = kite_opts_to_string(o);

        loc_push_option("chardev", s);
        if (!chardev_new_from_opts(o, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
    }
}

static void create_serial_ports(void)
{
    bool is_default = false;

    if (kite_config.serial_args->len == 0 && !kite_config.nodefaults &&
        !monitor_cli_uses_stdio()) {
        /*
         * With no display available the default serial goes to stdio (as -nographic
         * does), so that a plain "kite -kernel bzImage" shows its console.  The human
         * monitor shares it (Ctrl-A c) unless a monitor option was given; a monitor on
         * stdio leaves the default serial out, as QEMU's does with -display none.
         */
        g_ptr_array_add(kite_config.serial_args, g_strdup("mon:stdio"));
        is_default = true;
    }
    for (guint i = 0; i < kite_config.serial_args->len; i++) {
        const char *spec = kite_config.serial_args->pdata[i];
        g_autofree char *label = g_strdup_printf("serial%u", i);
        Error *err = NULL;
        Chardev *chr;

        if (i >= MAX_SERIAL_PORTS) {
            error_report("-serial %s: at most %d serial ports", spec, MAX_SERIAL_PORTS);
            exit(1);
        }
        if (!strcmp(spec, "none")) {
            continue;
        }
        loc_push_option("serial", spec);
        chr = chardev_new_from_legacy(label, spec, &err);
        if (!chr) {
            error_report_err(err);
            exit(1);
        }
        if (chr->legacy_monitor && !(is_default && monitor_cli_given()) &&
            !hmp_monitor_new(chr, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
        kite_config.serial_hds[i] = chr;
    }
}

/* -debugcon SPEC: QEMU's shorthand for a chardev plus -device isa-debugcon on it. */
static void create_debugcon(void)
{
    Error *err = NULL;

    if (!kite_config.debugcon) {
        return;
    }
    loc_push_option("debugcon", kite_config.debugcon);
    if (!chardev_new_from_legacy("debugcon", kite_config.debugcon, &err)) {
        if (err) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
        return;   /* "none" */
    }
    loc_pop();
    add_opts(&kite_config.device_opts, "device", "isa-debugcon,chardev=debugcon", "driver");
}

static void create_objects(void)
{
    for (guint i = 0; kite_config.object_opts && i < kite_config.object_opts->len; i++) {
        Error *err = NULL;
        KiteOpts *o = kite_config.object_opts->pdata[i];
        g_autofree char *s = kite_opts_to_string(o);

        loc_push_option("object", s);
        if (!user_object_create(o, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
    }
}

/*
 * QEMU's default network: with no -net, -nic or -netdev and no -nodefaults, a board that names
 * a default NIC model gets one on user networking (pc: an e1000 at 00:03.0, MAC
 * 52:54:00:12:34:56, behind slirp), so that a diskless firmware boot tries PXE.  Without
 * slirp in the build the NIC has no backend, as QEMU's "-net nic" alone.  Returns a -device
 * string for that case, NULL otherwise.
 */
static char *add_default_nic(void)
{
    KiteOpts *mo = kite_config.machine_opts;
    MachineClass *mc = machine_find_class(mo ? kite_opts_get(mo, "type") : NULL);

    if (kite_config.nodefaults || kite_config.net_set || !mc || !mc->default_nic) {
        return NULL;
    }
#ifdef CONFIG_SLIRP
    if (!kite_config.nic_args) {
        kite_config.nic_args = g_ptr_array_new_with_free_func(g_free);
    }
    g_ptr_array_add(kite_config.nic_args, g_strdup_printf("user,model=%s", mc->default_nic));
    return NULL;
#else
    return g_strdup(mc->default_nic);
#endif
}

/*
 * -netdev backends, then -nic (a backend plus a NIC device).  QEMU's board creates -nic NICs
 * before any -device, so their devices go to the front of the device list, in order.
 */
/* How many of device_opts, at its front, are -nic's NICs (see create_devices). */
static guint board_nic_count;

static void create_netdevs(void)
{
    g_autoptr(GPtrArray) nic_devs = g_ptr_array_new_with_free_func(g_free);
    char *default_dev = add_default_nic();

    if (default_dev) {
        g_ptr_array_add(nic_devs, default_dev);
    }

    for (guint i = 0; kite_config.netdev_opts && i < kite_config.netdev_opts->len; i++) {
        Error *err = NULL;
        KiteOpts *o = kite_config.netdev_opts->pdata[i];
        g_autofree char *s = kite_opts_to_string(o);

        loc_push_option("netdev", s);
        if (!netdev_add_from_opts(o, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
    }
    for (guint i = 0; kite_config.nic_args && i < kite_config.nic_args->len; i++) {
        Error *err = NULL;
        const char *arg = kite_config.nic_args->pdata[i];
        char *dev = NULL;

        loc_push_option("nic", arg);
        if (!net_nic_option(arg, &dev, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
        if (dev) {
            g_ptr_array_add(nic_devs, dev);
        }
    }
    board_nic_count = nic_devs->len;
    if (nic_devs->len) {
        GPtrArray *saved = kite_config.device_opts;
        kite_config.device_opts = NULL;
        for (guint i = 0; i < nic_devs->len; i++) {
            add_opts(&kite_config.device_opts, "nic", nic_devs->pdata[i], "driver");
        }
        for (guint j = 0; saved && j < saved->len; j++) {
            g_ptr_array_add(kite_config.device_opts, saved->pdata[j]);
        }
        if (saved) {
            g_ptr_array_set_free_func(saved, NULL);
            g_ptr_array_free(saved, true);
        }
    }
}

static MachineState *create_machine(void)
{
    Error *err = NULL;
    KiteOpts *mo = kite_config.machine_opts;
    const char *type = mo ? kite_opts_get(mo, "type") : NULL;
    MachineClass *mc = machine_find_class(type);
    MachineState *ms;

    if (!mc) {
        if (type) {
            error_report("unsupported machine type '%s' (-M help lists them)", type);
        } else {
            error_report("no default machine");
        }
        exit(1);
    }
    ms = MACHINE(object_new(object_class_get_name(OBJECT_CLASS(mc))));
    object_property_add_child(object_get_root(), "machine", OBJECT(ms), &error_abort);
    object_unref(ms);
    machine_set_current(ms);

    ms->ram_size = mc->default_ram_size ? mc->default_ram_size : 128 * MiB;
    if (kite_config.mem_arg) {
        g_autoptr(KiteOpts) o = kite_opts_parse(kite_config.mem_arg, "size", &err);
        uint64_t size = 0;
        loc_push_option("m", kite_config.mem_arg);
        if (!o || !kite_opts_get_size(o, "size", MiB, &size, &err) ||
            !kite_opts_check_unused(o, "-m", &err)) {
            error_report_err(err);
            exit(1);
        }
        if (size < MiB || size % MiB) {
            error_report("RAM size must be a whole number of MiB, at least 1 MiB");
            exit(1);
        }
        ms->ram_size = size;
        loc_pop();
    }
    ms->smp.cpus = ms->smp.max_cpus = ms->smp.sockets = 1;
    ms->smp.dies = ms->smp.cores = ms->smp.threads = 1;
    if (kite_config.smp_arg) {
        loc_push_option("smp", kite_config.smp_arg);
        if (!machine_parse_smp(ms, kite_config.smp_arg, &err)) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
    }
    /* -M key=value: everything but type= and accel= is a machine property. */
    for (guint i = 0; mo && i < mo->items->len; i++) {
        KiteOpt *o = mo->items->pdata[i];
        if (!strcmp(o->key, "type") || !strcmp(o->key, "accel")) {
            continue;
        }
        if (!object_property_set_str(OBJECT(ms), o->key, o->value, &err)) {
            error_prepend(&err, "-machine %s=%s: ", o->key, o->value);
            error_report_err(err);
            exit(1);
        }
    }
    if (kite_config.kernel) {
        object_property_set_str(OBJECT(ms), "kernel", kite_config.kernel, &error_abort);
    }
    if (kite_config.initrd) {
        object_property_set_str(OBJECT(ms), "initrd", kite_config.initrd, &error_abort);
    }
    if (kite_config.append) {
        object_property_set_str(OBJECT(ms), "append", kite_config.append, &error_abort);
    }
    if (kite_config.bios) {
        object_property_set_str(OBJECT(ms), "firmware", kite_config.bios, &error_abort);
    }
    if ((ms->initrd_filename || ms->kernel_cmdline) && !ms->kernel_filename) {
        error_report("-initrd and -append need -kernel");
        exit(1);
    }
    ms->cpu_type = g_strdup(kite_config.cpu_model);
    return ms;
}

/* The accelerator list: -accel options in order, else -M accel=a:b, else tcg. */
static void configure_accelerator(MachineState *ms)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) failures = g_string_new(NULL);
    const char *maccel = kite_config.machine_opts ? kite_opts_get(kite_config.machine_opts, "accel")
                                             : NULL;

    if (kite_config.qtest_chardev) {
        g_ptr_array_add(names, g_strdup("qtest"));
    } else if (kite_config.accel_opts) {
        for (guint i = 0; i < kite_config.accel_opts->len; i++) {
            g_ptr_array_add(names, g_strdup(kite_opts_get(kite_config.accel_opts->pdata[i],
                                                          "accel")));
        }
    } else if (maccel) {
        g_auto(GStrv) parts = g_strsplit(maccel, ":", -1);
        for (int i = 0; parts[i]; i++) {
            g_ptr_array_add(names, g_strdup(parts[i]));
        }
    } else {
        g_ptr_array_add(names, g_strdup("tcg"));
    }
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        AccelClass *ac = accel_find(name);
        Error *err = NULL;
        AccelState *accel;

        if (!ac) {
            if (!strcmp(name, "tcg") || !strcmp(name, "kvm")) {
                g_string_append_printf(failures, "%s%s accelerator is not supported yet",
                                       failures->len ? "; " : "", name);
                continue;
            }
            error_report("invalid accelerator '%s' (-accel help lists them)", name);
            exit(1);
        }
        if (ac->available && !ac->available(&err)) {
            g_string_append_printf(failures, "%s%s", failures->len ? "; " : "",
                                   error_get_pretty(err));
            error_free(err);
            continue;
        }
        accel = (AccelState *)object_new(object_class_get_name(OBJECT_CLASS(ac)));
        /* Accelerator options other than the name are its properties. */
        for (guint j = 0; kite_config.accel_opts && j < kite_config.accel_opts->len; j++) {
            KiteOpts *o = kite_config.accel_opts->pdata[j];
            if (strcmp(kite_opts_get(o, "accel"), name)) {
                continue;
            }
            for (guint k = 0; k < o->items->len; k++) {
                KiteOpt *opt = o->items->pdata[k];
                if (strcmp(opt->key, "accel") &&
                    !object_property_set_str(OBJECT(accel), opt->key, opt->value, &err)) {
                    error_prepend(&err, "-accel %s: ", name);
                    error_report_err(err);
                    exit(1);
                }
            }
        }
        accel_set_current(accel);
        ms->accel = accel;
        if (ac->init_machine && !ac->init_machine(accel, ms, &err)) {
            g_string_append_printf(failures, "%s%s", failures->len ? "; " : "",
                                   error_get_pretty(err));
            error_free(err);
            accel_set_current(NULL);
            ms->accel = NULL;
            object_unref(accel);
            continue;
        }
        if (i > 0) {
            info_report("%s; falling back to %s", failures->str, name);
        }
        return;
    }
    error_report("no accelerator found: %s", failures->str);
    exit(1);
}

static void create_devices(void)
{
    for (guint i = 0; kite_config.device_opts && i < kite_config.device_opts->len; i++) {
        Error *err = NULL;
        KiteOpts *o = kite_config.device_opts->pdata[i];
        g_autofree char *s = kite_opts_to_string(o);

        loc_push_option("device", s);
        if (!(i < board_nic_count ? qdev_device_add_board(o, &err)
                                  : qdev_device_add(o, false, &err))) {
            error_report_err(err);
            exit(1);
        }
        loc_pop();
    }
}

/* if=virtio drives are QEMU's shorthand for -device virtio-blk-pci,drive=ID. */
static void create_drive_devices(void)
{
    for (DriveInfo *d = drive_next(NULL); d; d = drive_next(d)) {
        g_autofree char *s = NULL;
        if (d->type != IF_VIRTIO) {
            continue;
        }
        if (!object_class_by_name("virtio-blk-pci")) {
            error_report("-drive if=virtio (drive '%s') needs the virtio-blk-pci device, "
                         "which this build lacks", d->id);
            exit(1);
        }
        s = g_strdup_printf("virtio-blk-pci,drive=%s", d->id);
        add_opts(&kite_config.device_opts, "device", s, "driver");
    }
}

/*
 * QEMU's default CD-ROM: unless -nodefaults, a board that asks for it gets an empty IDE CD-ROM
 * drive at index 2 (secondary master, "ide1-cd0") so that a medium can be inserted later
 * (HMP change, QMP blockdev-change-medium).  A drive already at that index (-cdrom, -hdc,
 * -drive index=2 or bus=1,unit=0) takes its place, as in QEMU's default_drive(); any
 * -device ide-cd, ide-hd, scsi-cd or scsi-hd also suppresses it (QEMU's default_list).
 */
static void add_default_cdrom(void)
{
    static const char *const disks[] = { "ide-cd", "ide-hd", "scsi-cd", "scsi-hd", NULL };
    KiteOpts *mo = kite_config.machine_opts;
    MachineClass *mc = machine_find_class(mo ? kite_opts_get(mo, "type") : NULL);
    Error *err = NULL;

    if (kite_config.nodefaults || !mc || !mc->default_cdrom ||
        drive_get_by_index(IF_IDE, 2)) {
        return;
    }
    for (guint i = 0; kite_config.device_opts && i < kite_config.device_opts->len; i++) {
        const char *driver = kite_opts_get(kite_config.device_opts->pdata[i], "driver");
        if (driver && g_strv_contains(disks, driver)) {
            return;
        }
    }
    if (!drive_new("if=ide,index=2,media=cdrom", &err)) {
        error_report_err(err);
        exit(1);
    }
}

/*
 * -vga: std unless -vga none, -nodefaults, or a graphics card among the -device options
 * (QEMU's rule: an explicit card replaces the default one).
 */
static void choose_default_vga(void)
{
    static const char *const cards[] = {
        "VGA", "isa-vga", "cirrus-vga", "isa-cirrus-vga", "vmware-svga", "qxl-vga",
        "virtio-vga", "ati-vga", NULL
    };

    if (kite_config.vga) {
        return;
    }
    for (guint i = 0; kite_config.device_opts && i < kite_config.device_opts->len; i++) {
        const char *driver = kite_opts_get(kite_config.device_opts->pdata[i], "driver");
        if (driver && g_strv_contains(cards, driver)) {
            kite_config.vga = g_strdup("none");
            return;
        }
    }
    kite_config.vga = g_strdup(kite_config.nodefaults ? "none" : "std");
}

/* QMP screendump: the active console, or the one of the device given by id or QOM path. */
static bool screendump(const char *filename, const char *device, const char *format,
                       Error **errp)
{
    QemuConsole *con = NULL;
    DisplaySurface *surf;
    DeviceState *dev;

    if (!device) {
        return ui_screendump(filename, format, errp);
    }
    dev = qdev_find(device);
    if (!dev) {
        error_set(errp, ERROR_CLASS_DEVICE_NOT_FOUND, "Device '%s' not found", device);
        return false;
    }
    for (unsigned i = 0; i < qemu_console_count() && !con; i++) {
        QemuConsole *c = qemu_console_lookup_by_index(i);
        if (c && qemu_console_device(c) == dev) {
            con = c;
        }
    }
    if (!con) {
        error_setg(errp, "Device '%s' has no display", device);
        return false;
    }
    graphic_hw_update(con);
    surf = qemu_console_surface(con);
    if (!surf) {
        error_setg(errp, "screendump: no display surface");
        return false;
    }
    if (!format) {
        format = g_str_has_suffix(filename, ".png") ? "png" : "ppm";
    }
    if (!strcmp(format, "png")) {
        return ui_write_png(surf, filename, errp);
    }
    if (!strcmp(format, "ppm")) {
        return ui_write_ppm(surf, filename, errp);
    }
    error_setg(errp, "screendump: unknown format '%s' (ppm or png)", format);
    return false;
}

/*
 * The display front-end: -display sdl, or by default an SDL window when there is a desktop
 * to open it on (as QEMU picks its first usable UI), else none.
 */
static void display_start(void)
{
    const Config *c = &kite_config;
    SdlDisplayOptions o = { .vm_name = c->name, .window_close = c->sdl_window_close };
    Error *err = NULL;

    if (c->display_sdl) {
        if (c->nographic) {
            error_report("-nographic cannot be used with -display sdl");
            exit(1);
        }
        if (!sdl_display_init(&o, &err)) {
            error_report_err(err);
            exit(1);
        }
        return;
    }
    if (c->display_set || c->nographic || c->qtest_chardev || !sdl_display_built() ||
        (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY"))) {
        return;
    }
    o.window_close = true;
    if (!sdl_display_init(&o, &err)) {
        /* No usable desktop after all: run without a display, as with -display none. */
        error_free(err);
    }
}

static void mux_quit(void)
{
    system_shutdown_request(SHUTDOWN_CAUSE_HOST_UI);
}

int main(int argc, char **argv)
{
    Error *err = NULL;
    MachineState *ms;
    MachineClass *mc;
    int status;

    error_set_progname("kite");
    kite_config.serial_args = g_ptr_array_new_with_free_func(g_free);
    kite_config.firmware_dirs = g_ptr_array_new_with_free_func(g_free);
    parse_args(argc, argv);
    handle_help_requests();
    choose_default_vga();
    loader_firmware_finder = firmware_find;
    qmp_screendump_hook = screendump;
#ifdef CONFIG_JSON
    qmp_query_block_hook = qmp_block_query_block;
#endif
    if (!object_check_globals(&err)) {
        error_report_err(err);
        return 1;
    }

    main_loop_init();
    memory_init();
    bql_lock();
    chardev_set_mux_quit_hook(mux_quit);
    system_install_signal_handlers();

    create_chardevs();
    if (kite_config.qtest_chardev &&
        !qtest_server_start(kite_config.qtest_chardev, kite_config.qtest_log, &err)) {
        error_report_err(err);
        return 1;
    }
    create_objects();
    create_netdevs();
    if (!blockdev_init(&err)) {
        error_report_err(err);
        return 1;
    }
    add_default_cdrom();
    create_drive_devices();
    create_debugcon();
    ms = create_machine();
    mc = MACHINE_GET_CLASS(ms);
    create_serial_ports();
    if (!monitor_cli_start_hmp(&err)) {
        error_report_err(err);
        return 1;
    }
    configure_accelerator(ms);

    mc->init(ms);
    create_devices();
    if (!drive_check_orphaned(&err)) {
        error_report_err(err);
        return 1;
    }
    machine_done(ms);
    if (!monitor_cli_start(&err)) {
        error_report_err(err);
        return 1;
    }
    if (kite_config.gdb_dev && !gdbserver_start(kite_config.gdb_dev, &err)) {
        error_prepend(&err, "-gdb %s: ", kite_config.gdb_dev);
        error_report_err(err);
        return 1;
    }

    if (!vnc_display_start(&err)) {
        error_report_err(err);
        return 1;
    }
    system_reset(SHUTDOWN_CAUSE_NONE);
    if (ms->dump_tree) {
        /* -M ...,dump-tree: print the device tree the options built, and stop there. */
        g_autoptr(GString) tree = g_string_new(NULL);
        qdev_print_tree(tree);
        fputs(tree->str, stdout);
        fflush(stdout);
        system_cleanup();
        return 0;
    }
    display_start();
    if (!kite_config.start_stopped) {
        vm_start();
    }
    status = main_loop_run();
    vm_shutdown();
    system_cleanup();
    bql_unlock();
    return status;
}
