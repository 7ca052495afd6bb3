/*
 * MSI-X (PCI Local Bus Specification 3.0, 6.8.2): the capability (Message Control with
 * table size, Function Mask and MSI-X Enable; Table and PBA offset/BIR), the vector
 * table (16-byte entries: address low/high, data, vector control with its mask bit) and
 * the pending bit array, as MMIO inside the device's BARs.
 *
 * A vector that fires while masked (its own bit or the function mask) sets its pending
 * bit and is sent when unmasked (6.8.2.9).  Guests write the table with any alignment of
 * dword accesses; qword accesses are split by the memory core.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/pci/msix.h"
#include "kite/log.h"

#define MSIX_CONTROL        2
#define  MSIX_ENABLE        0x8000
#define  MSIX_FUNC_MASK     0x4000
#define MSIX_TABLE          4
#define MSIX_PBA            8
#define MSIX_CAP_SIZE       12
#define MSIX_ENTRY_SIZE     16
#define MSIX_VECTOR_CTRL    12
#define  MSIX_VECTOR_MASKED 1

void (*pci_msi_trigger)(uint64_t addr, uint32_t data);
bool (*pci_msi_route_send)(PCIMsiRoute *r, uint64_t addr, uint32_t data);
void (*pci_msi_route_release)(PCIMsiRoute *r);

static PCIMsiRoute *routes_new(unsigned n)
{
    PCIMsiRoute *r = g_new0(PCIMsiRoute, n);

    for (unsigned i = 0; i < n; i++) {
        r[i].virq = -1;
    }
    return r;
}

static void routes_release(PCIMsiRoute *r, unsigned n)
{
    for (unsigned i = 0; r && i < n; i++) {
        if (r[i].virq >= 0 && pci_msi_route_release) {
            pci_msi_route_release(&r[i]);
        }
        r[i].virq = -1;
    }
}

void pci_msi_routes_release(PCIDevice *dev)
{
    routes_release(dev->msix_routes, dev->msix_entries);
    routes_release(dev->msi_routes, 32);
}

/* One message from a vector: through its route where the board has them. */
void pci_msi_send_routed(PCIMsiRoute *r, uint64_t addr, uint32_t data)
{
    if (r && pci_msi_route_send && pci_msi_route_send(r, addr, data)) {
        return;
    }
    if (pci_msi_trigger) {
        pci_msi_trigger(addr, data);
    }
}

static uint16_t msix_control(PCIDevice *dev)
{
    return pci_get_word(dev->config + dev->msix_cap + MSIX_CONTROL);
}

bool msix_present(PCIDevice *dev)
{
    return dev->msix_cap != 0;
}

bool msix_enabled(PCIDevice *dev)
{
    return dev->msix_cap && (msix_control(dev) & MSIX_ENABLE);
}

unsigned msix_nr_vectors(PCIDevice *dev)
{
    return dev->msix_entries;
}

static bool vector_masked(PCIDevice *dev, unsigned v)
{
    return (msix_control(dev) & MSIX_FUNC_MASK) ||
           (dev->msix_table[v * MSIX_ENTRY_SIZE + MSIX_VECTOR_CTRL] & MSIX_VECTOR_MASKED);
}

static void send_vector(PCIDevice *dev, unsigned v)
{
    const uint8_t *e = dev->msix_table + v * MSIX_ENTRY_SIZE;
    uint64_t addr = pci_get_long(e) | (uint64_t)pci_get_long(e + 4) << 32;

    /* A message is a memory write: Bus Master Enable gates it (6.8.2). */
    if (!(pci_get_word(dev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return;
    }
    pci_msi_send_routed(&dev->msix_routes[v], addr, pci_get_long(e + 8));
}

static void set_pending(PCIDevice *dev, unsigned v, bool on)
{
    if (on) {
        dev->msix_pba[v / 8] |= 1u << (v % 8);
    } else {
        dev->msix_pba[v / 8] &= ~(1u << (v % 8));
    }
}

static bool is_pending(PCIDevice *dev, unsigned v)
{
    return dev->msix_pba[v / 8] & (1u << (v % 8));
}

void msix_notify(PCIDevice *dev, unsigned vector)
{
    if (!msix_enabled(dev) || vector >= dev->msix_entries) {
        return;
    }
    if (vector_masked(dev, vector)) {
        set_pending(dev, vector, true);
        return;
    }
    send_vector(dev, vector);
}

/* Masks changed: deliver what became unmasked while pending. */
static void flush_pending(PCIDevice *dev, unsigned first, unsigned n)
{
    if (!msix_enabled(dev)) {
        return;
    }
    for (unsigned v = first; v < first + n && v < dev->msix_entries; v++) {
        if (is_pending(dev, v) && !vector_masked(dev, v)) {
            set_pending(dev, v, false);
            send_vector(dev, v);
        }
    }
}

void msix_config_changed(PCIDevice *dev)
{
    flush_pending(dev, 0, dev->msix_entries);
}

static uint64_t table_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIDevice *dev = opaque;

    return addr + size <= dev->msix_entries * MSIX_ENTRY_SIZE ?
           ldn_le_p(dev->msix_table + addr, size) : 0;
}

static void table_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    PCIDevice *dev = opaque;
    unsigned v = addr / MSIX_ENTRY_SIZE;

    if (addr + size > dev->msix_entries * MSIX_ENTRY_SIZE) {
        return;
    }
    stn_le_p(dev->msix_table + addr, size, val);
    /* Only the mask bit of Vector Control is writable (the rest is reserved, 0). */
    dev->msix_table[v * MSIX_ENTRY_SIZE + MSIX_VECTOR_CTRL] &= MSIX_VECTOR_MASKED;
    memset(dev->msix_table + v * MSIX_ENTRY_SIZE + MSIX_VECTOR_CTRL + 1, 0, 3);
    flush_pending(dev, v, 1);
}

static const MemoryRegionOps table_ops = {
    .read = table_read, .write = table_write,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static uint64_t pba_read(void *opaque, hwaddr addr, unsigned size)
{
    PCIDevice *dev = opaque;

    return addr + size <= dev->msix_pba_len ? ldn_le_p(dev->msix_pba + addr, size) : 0;
}

static void pba_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    /* Read-only (6.8.2.10): writes are ignored. */
}

static const MemoryRegionOps pba_ops = {
    .read = pba_read, .write = pba_write,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

bool msix_init(PCIDevice *dev, unsigned nentries, MemoryRegion *table_bar, int table_bar_nr,
               uint32_t table_offset, MemoryRegion *pba_bar, int pba_bar_nr,
               uint32_t pba_offset, uint8_t cap_pos, Error **errp)
{
    int cap;

    if (nentries == 0 || nentries > PCI_MSIX_MAX_ENTRIES || (table_offset & 7) ||
        (pba_offset & 7)) {
        error_setg(errp, "MSI-X: %u vectors, table at 0x%x, PBA at 0x%x not supported",
                   nentries, table_offset, pba_offset);
        return false;
    }
    cap = pci_add_capability(dev, PCI_CAP_ID_MSIX, cap_pos, MSIX_CAP_SIZE, errp);
    if (cap < 0) {
        return false;
    }
    dev->msix_cap = cap;
    dev->msix_entries = nentries;
    dev->msix_table_len = nentries * MSIX_ENTRY_SIZE;
    dev->msix_pba_len = (nentries + 63) / 64 * 8;
    dev->msix_table = g_malloc0(dev->msix_table_len);
    dev->msix_pba = g_malloc0(dev->msix_pba_len);
    dev->msix_routes = routes_new(nentries);
    pci_set_word(dev->config + cap + MSIX_CONTROL, nentries - 1);
    pci_set_long(dev->config + cap + MSIX_TABLE, table_offset | table_bar_nr);
    pci_set_long(dev->config + cap + MSIX_PBA, pba_offset | pba_bar_nr);
    pci_set_word(dev->wmask + cap + MSIX_CONTROL, MSIX_ENABLE | MSIX_FUNC_MASK);
    memory_region_init_io(&dev->msix_table_mmio, OBJECT(dev), &table_ops, dev, "msix-table",
                          nentries * MSIX_ENTRY_SIZE);
    memory_region_init_io(&dev->msix_pba_mmio, OBJECT(dev), &pba_ops, dev, "msix-pba",
                          dev->msix_pba_len);
    memory_region_add_subregion(table_bar, table_offset, &dev->msix_table_mmio);
    memory_region_add_subregion(pba_bar, pba_offset, &dev->msix_pba_mmio);
    dev->msix_table_bar = table_bar;
    dev->msix_pba_bar = pba_bar;
    msix_reset(dev);
    return true;
}

/*
 * A BAR of its own: the table at 0 and the PBA at 2 KiB in one 4 KiB page for up to 128
 * vectors; beyond that the PBA follows the table and the BAR grows to a power of two.
 */
bool msix_init_exclusive_bar(PCIDevice *dev, unsigned nentries, int bar_nr, Error **errp)
{
    uint64_t table = (uint64_t)nentries * MSIX_ENTRY_SIZE;
    uint64_t pba_off = table <= 2048 ? 2048 : table;
    uint64_t size = 4096;

    while (size < pba_off + (nentries + 63) / 64 * 8) {
        size <<= 1;
    }

    memory_region_init(&dev->msix_exclusive_bar, OBJECT(dev), "msix", size);
    if (!msix_init(dev, nentries, &dev->msix_exclusive_bar, bar_nr, 0,
                   &dev->msix_exclusive_bar, bar_nr, pba_off, 0, errp)) {
        memory_region_destroy(&dev->msix_exclusive_bar);
        return false;
    }
    pci_register_bar(dev, bar_nr, PCI_BASE_ADDRESS_SPACE_MEMORY, &dev->msix_exclusive_bar);
    return true;
}

void msix_uninit(PCIDevice *dev)
{
    if (!dev->msix_cap) {
        return;
    }
    memory_region_del_subregion(dev->msix_table_bar, &dev->msix_table_mmio);
    memory_region_del_subregion(dev->msix_pba_bar, &dev->msix_pba_mmio);
    memory_region_destroy(&dev->msix_table_mmio);
    memory_region_destroy(&dev->msix_pba_mmio);
    if (dev->msix_table_bar == &dev->msix_exclusive_bar) {
        memory_region_destroy(&dev->msix_exclusive_bar);
    }
    routes_release(dev->msix_routes, dev->msix_entries);
    g_clear_pointer(&dev->msix_routes, g_free);
    dev->msix_cap = 0;
    dev->msix_entries = 0;
    g_clear_pointer(&dev->msix_table, g_free);
    g_clear_pointer(&dev->msix_pba, g_free);
    dev->msix_table_len = dev->msix_pba_len = 0;
}

/* Power-on: every vector masked, nothing pending, MSI-X disabled (6.8.2.3, 6.8.2.9). */
void msix_reset(PCIDevice *dev)
{
    if (!dev->msix_cap) {
        return;
    }
    pci_set_word(dev->config + dev->msix_cap + MSIX_CONTROL, dev->msix_entries - 1);
    routes_release(dev->msix_routes, dev->msix_entries);
    memset(dev->msix_table, 0, dev->msix_table_len);
    for (unsigned v = 0; v < dev->msix_entries; v++) {
        dev->msix_table[v * MSIX_ENTRY_SIZE + MSIX_VECTOR_CTRL] = MSIX_VECTOR_MASKED;
    }
    memset(dev->msix_pba, 0, dev->msix_pba_len);
}
