/*
 * Start-up configuration shared by the command line, the board and the monitor.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef SYSTEM_SYSTEM_H
#define SYSTEM_SYSTEM_H

#include "kite/opts.h"
#include "hw/boards.h"

#define MAX_SERIAL_PORTS 4

typedef struct Chardev Chardev;

typedef struct Config {
    KiteOpts *machine_opts;       /* -M, merged */
    GPtrArray *accel_opts;        /* of KiteOpts *, -accel in order */
    GPtrArray *device_opts;
    GPtrArray *object_opts;
    GPtrArray *chardev_opts;
    GPtrArray *netdev_opts;       /* of KiteOpts *, -netdev in order */
    GPtrArray *nic_args;          /* of char *, -nic in order */
    GPtrArray *serial_args;       /* of char * */
    GPtrArray *firmware_dirs;     /* -L */
    char *cpu_model, *mem_arg, *smp_arg;
    char *kernel, *initrd, *append, *bios;
    char *name, *uuid;
    char *qtest_chardev, *qtest_log;
    char *debugcon;
    char *gdb_dev;                /* -gdb / -s */
    char *vga;                    /* -vga: "std" or "none" (the default is chosen in main) */
    bool nographic, nodefaults, start_stopped, display_none;
    bool net_set;                 /* any -net, -nic or -netdev: no default NIC */
    bool display_set, display_sdl, sdl_window_close;   /* -display */
    Chardev *serial_hds[MAX_SERIAL_PORTS];
} Config;

/* The configuration the command line built (system/startup.c). */
extern Config kite_config;
void config_apply_option(Config *c, const char *name, const char *optarg);
const Config *system_config(void);
/* The chardev behind serial port i (-serial), or NULL. */
Chardev *serial_hd(int i);

/* -object TYPE,id=ID,...: create a user-creatable object under /objects. */
bool user_object_create(KiteOpts *opts, Error **errp);
void user_object_print_types(FILE *f);
/* -cpu help */
void cpu_print_models(FILE *f);

/* After the board and -device: run the machine-done notifiers (tables, loaders). */
void machine_done(MachineState *ms);
typedef void MachineDoneNotifier(MachineState *ms, void *opaque);
void machine_add_done_notifier(MachineDoneNotifier *fn, void *opaque);

void system_install_signal_handlers(void);
void system_cleanup(void);

/* Find a firmware file by name in -L dirs, the build tree's pc-bios/ and the system. */
char *firmware_find(const char *name);

#endif
