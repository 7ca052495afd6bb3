/*
 * Machines: a board type builds RAM, CPUs and devices from the user's options.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_BOARDS_H
#define HW_BOARDS_H

#include "kite/object.h"
#include "kite/memory.h"

#define TYPE_MACHINE "machine"
#define TYPE_MACHINE_SUFFIX "-machine"

typedef struct MachineState MachineState;
typedef struct AccelState AccelState;

typedef enum OnOffSplit {
    ON_OFF_SPLIT_ON,
    ON_OFF_SPLIT_OFF,
    ON_OFF_SPLIT_SPLIT,
    ON_OFF_SPLIT_AUTO,
} OnOffSplit;

typedef struct MachineClass {
    ObjectClass parent_class;
    const char *name;             /* "pc" (type name minus "-machine") */
    const char *alias;
    const char *desc;
    void (*init)(MachineState *ms);
    void (*reset)(MachineState *ms);
    unsigned max_cpus;
    uint64_t default_ram_size;
    const char *default_cpu_type;
    const char *default_nic;      /* NIC model of the default -nic user, or NULL */
    bool default_cdrom;           /* an empty IDE CD-ROM at index 2 (ide1-cd0) by default */
    bool is_default;
} MachineClass;

typedef struct SMPConfig {
    unsigned cpus, sockets, dies, cores, threads, max_cpus;
} SMPConfig;

struct MachineState {
    Object parent_obj;
    uint64_t ram_size;
    SMPConfig smp;
    char *kernel_filename;
    char *initrd_filename;
    char *kernel_cmdline;
    char *firmware;               /* -bios */
    char *cpu_type;
    char *boot_order;
    int kernel_irqchip;           /* OnOffSplit */
    bool dump_tree;
    bool mem_merge;
    bool dump_guest_core;
    bool usb;
    char *memory_backend;
    MemoryRegion *ram;            /* the guest's main RAM */
    AccelState *accel;
};

MachineClass *MACHINE_GET_CLASS(const void *obj);
MachineClass *MACHINE_CLASS(const void *klass);
MachineState *MACHINE(const void *obj);
/* The current machine (NULL before it is created). */
MachineState *current_machine(void);
void machine_set_current(MachineState *ms);
/* Find a machine class by name or alias; the default one for NULL. */
MachineClass *machine_find_class(const char *name);
/* Validate -smp against the machine's limits and fill the defaults. */
bool machine_parse_smp(MachineState *ms, const char *optarg, Error **errp);

#endif
