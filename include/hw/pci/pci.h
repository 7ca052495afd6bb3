/*
 * Conventional PCI: the bus, the device base type, configuration space, BARs and INTx.
 *
 * A PCI device type derives from TYPE_PCI_DEVICE and gives its IDs and hooks in a
 * PCIDeviceClass (set in class_init); TypeInfo.realize/.unrealize of a PCI device type
 * become PCIDeviceClass.realize/.exit, run inside the generic PCI realize (which assigns
 * the slot from `addr=`, fills the header and registers the config space's vmstate).
 * Devices register BARs with pci_register_bar(); the guest's writes to the command
 * register and the BARs map and unmap them in the bus's memory and I/O spaces (memory BARs
 * sit below RAM: a BAR programmed over RAM is hidden by it).
 *
 * Reference: PCI Local Bus Specification 3.0, chapter 6 (configuration space).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_PCI_PCI_H
#define HW_PCI_PCI_H

#include "hw/qdev.h"
#include "hw/pci/pci_regs.h"
#include "kite/memory.h"
#include "kite/vmstate.h"

#define TYPE_PCI_BUS "PCI"
#define TYPE_PCI_DEVICE "pci-device"

#define PCI_DEVFN(slot, fn)   ((((slot) & 0x1f) << 3) | ((fn) & 0x07))
#define PCI_SLOT(devfn)       (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)       ((devfn) & 0x07)
#define PCI_NUM_REGIONS 7      /* six BARs and the expansion ROM */
#define PCI_ROM_SLOT 6
#define PCI_BAR_UNMAPPED (~0ULL)
#define PCI_NUM_PINS 4
#define PCI_MSIX_MAX_ENTRIES 2048     /* the Table Size field's limit (PCI 3.0, 6.8.2.3) */

typedef struct PCIBus PCIBus;
typedef struct PCIDevice PCIDevice;

/* The board's INTx wiring: device pin -> bus interrupt line (PIRQ), then its level. */
typedef int PCIMapIrqFn(PCIDevice *dev, int pin);
typedef void PCISetIrqFn(void *opaque, int pirq, int level);

struct PCIBus {
    BusState parent_obj;
    PCIDevice *devices[256];
    MemoryRegion *address_space_mem;
    MemoryRegion *address_space_io;
    PCIMapIrqFn *map_irq;
    PCISetIrqFn *set_irq;
    void *irq_opaque;
    int nirq;
    int *irq_count;            /* devices asserting each PIRQ (wired-OR) */
};

typedef struct PCIIORegion {
    uint64_t size;             /* 0: not implemented */
    uint8_t type;              /* PCI_BASE_ADDRESS_SPACE_IO or MEM type bits */
    MemoryRegion *mr;
    uint64_t addr;             /* where it is mapped, or PCI_BAR_UNMAPPED */
} PCIIORegion;

struct PCIDevice {
    DeviceState parent_obj;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];     /* bits the guest may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE];   /* bits the guest clears by writing 1 */
    char *addr;                               /* property "addr": SLOT[.FN], or first free */
    int32_t devfn;
    bool multifunction;                       /* property "multifunction" */
    PCIIORegion io_regions[PCI_NUM_REGIONS];
    int irq_level;                            /* INTx asserted by the device */
    uint8_t cap_next;                         /* where the next capability may go */

    /* MSI-X (hw/pci/msix.c): up to PCI_MSIX_MAX_ENTRIES vectors. */
    uint8_t msix_cap;                         /* capability offset, 0: none */
    uint16_t msix_entries;
    uint8_t *msix_table;                      /* msix_entries 16-byte entries */
    uint8_t *msix_pba;                        /* pending bits, whole qwords */
    uint32_t msix_table_len, msix_pba_len;    /* their sizes in bytes */
    struct PCIMsiRoute *msix_routes;          /* per vector (msix.h), with the table */
    struct PCIMsiRoute *msi_routes;           /* per MSI vector, from msi_init */
    MemoryRegion msix_table_mmio, msix_pba_mmio, msix_exclusive_bar;
    MemoryRegion *msix_table_bar, *msix_pba_bar;
    /* MSI (hw/pci/msi.c). */
    uint8_t msi_cap;
};

typedef struct PCIDeviceClass {
    DeviceClass parent_class;
    void (*realize)(PCIDevice *dev, Error **errp);
    void (*exit)(PCIDevice *dev);
    void (*reset)(PCIDevice *dev);             /* after the generic PCI reset */
    /* Optional overrides; the defaults apply the masks and (re)map BARs. */
    uint32_t (*config_read)(PCIDevice *dev, uint32_t addr, int len);
    void (*config_write)(PCIDevice *dev, uint32_t addr, uint32_t val, int len);
    uint16_t vendor_id, device_id;
    uint16_t subsystem_vendor_id, subsystem_id;
    uint8_t revision;
    uint16_t class_id;                         /* base class << 8 | subclass */
    uint8_t prog_if;
} PCIDeviceClass;

PCIBus *PCI_BUS(const void *obj);
PCIDevice *PCI_DEVICE(const void *obj);
PCIDeviceClass *PCI_DEVICE_GET_CLASS(const void *obj);

/* ---- the bus (host bridges) ---- */
PCIBus *pci_root_bus_new(DeviceState *parent, const char *name, MemoryRegion *mem,
                         MemoryRegion *io);
void pci_bus_irqs(PCIBus *bus, PCISetIrqFn *set_irq, PCIMapIrqFn *map_irq, void *opaque,
                  int nirq);
/* Configuration mechanism #1 style access: bus number, devfn, register in addr. */
uint32_t pci_data_read(PCIBus *bus, uint32_t addr, int len);
void pci_data_write(PCIBus *bus, uint32_t addr, uint32_t val, int len);
PCIDevice *pci_find_device(PCIBus *bus, int devfn);
void pci_for_each_device(PCIBus *bus, void (*fn)(PCIBus *bus, PCIDevice *dev, void *opaque),
                         void *opaque);
/* The first PCI bus created (the pc machine's "pci.0"), or NULL. */
PCIBus *pci_get_root_bus(void);

/* ---- devices ---- */
/* A device's own vmstate embeds its configuration space with VMSTATE_PCI_DEVICE. */
extern const VMStateDescription vmstate_pci_device;
#define VMSTATE_PCI_DEVICE(f, S) VMSTATE_STRUCT(f, S, vmstate_pci_device, PCIDevice)
void pci_register_bar(PCIDevice *dev, int n, uint8_t type, MemoryRegion *mr);
uint64_t pci_get_bar_addr(PCIDevice *dev, int n);
/* INTx through the pin in config[PCI_INTERRUPT_PIN] (1 = INTA); honours INTx Disable. */
void pci_set_irq(PCIDevice *dev, int level);
/* A capability of size bytes at offset (0: first free dword); returns its offset or -1. */
int pci_add_capability(PCIDevice *dev, uint8_t cap_id, uint8_t offset, uint8_t size,
                       Error **errp);
/*
 * An expansion ROM image (PCI 3.0, 6.3) from the file at path into rom, a ROM region
 * padded with zeroes to a power of two; the file must start with the 55h AAh signature.
 * The caller registers it with pci_register_bar(dev, PCI_ROM_SLOT, 0, rom).
 */
bool pci_rom_init_from_file(PCIDevice *dev, MemoryRegion *rom, const char *name,
                            const char *path, Error **errp);
uint32_t pci_default_read_config(PCIDevice *dev, uint32_t addr, int len);
void pci_default_write_config(PCIDevice *dev, uint32_t addr, uint32_t val, int len);
/* Config access honouring the class's overrides (what the host bridge calls). */
uint32_t pci_config_read(PCIDevice *dev, uint32_t addr, int len);
void pci_config_write(PCIDevice *dev, uint32_t addr, uint32_t val, int len);
/*
 * Bus-master DMA: through address_space_memory, so DMA to unassigned space is dropped
 * and never reaches host memory outside guest RAM; refused (MEMTX_ERROR) while
 * the command register's Bus Master Enable is clear.
 */
MemTxResult pci_dma_read(PCIDevice *dev, uint64_t addr, void *buf, uint64_t len);
MemTxResult pci_dma_write(PCIDevice *dev, uint64_t addr, const void *buf, uint64_t len);

static inline void pci_set_word(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void pci_set_long(uint8_t *p, uint32_t v) { pci_set_word(p, v); pci_set_word(p + 2, v >> 16); }
static inline uint16_t pci_get_word(const uint8_t *p) { return p[0] | p[1] << 8; }
static inline uint32_t pci_get_long(const uint8_t *p) { return pci_get_word(p) | (uint32_t)pci_get_word(p + 2) << 16; }

#endif
