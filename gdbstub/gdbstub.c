/*
 * The gdb stub: `-gdb tcp::1234` / `-s`, the remote serial protocol over a chardev.
 *
 * Architecture-neutral: registers, the target description and virtual-to-physical
 * translation come from CPUClass hooks; breakpoints and single-stepping go through
 * hw/core/cpu-debug.c to the accelerator.  gdb threads are vCPUs (thread id = cpu_index +
 * 1).  Like QEMU's stub: attaching stops the VM, `c`/`s` resume it (a step resumes every
 * vCPU, the stepping one stops the VM after one instruction), Ctrl-C stops it with SIGINT,
 * breakpoints and steps report SIGTRAP.  Software breakpoints are INT3 bytes written into
 * guest memory by physical address (remembered, so removal is right even if the guest
 * changed its page tables); hardware breakpoints leave memory alone.
 *
 * Reference: the GDB manual, appendix E (packets), E.4 (stop replies), E.5 (qSupported,
 * qXfer:features:read), G (target descriptions).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "gdbstub/gdbstub.h"
#include "gdbstub/packet.h"
#include "hw/core/cpu.h"
#include "accel/accel.h"
#include "kite/chardev.h"
#include "kite/error.h"
#include "kite/log.h"
#include "system/runstate.h"

#define GDB_SIGINT  2
#define GDB_SIGTRAP 5

typedef struct GdbSwBreakpoint {
    uint64_t addr, paddr;
    uint8_t orig;
} GdbSwBreakpoint;

typedef struct GdbServer {
    CharFrontend fe;
    GdbRx rx;
    bool connected;
    bool no_ack;
    bool running;          /* we resumed the VM and owe gdb a stop reply */
    bool paused_by_gdb;    /* attaching stopped a running VM */
    CPUState *g_cpu, *c_cpu;
    GArray *sw_bps;        /* of GdbSwBreakpoint */
    GString *last;         /* last packet sent, for a '-' */
    void *vmse;
} GdbServer;

static GdbServer *gdb;

static int tid_of(CPUState *cpu)
{
    return cpu->cpu_index + 1;
}

static CPUState *cpu_of_tid(int64_t tid)
{
    return tid > 0 ? cpu_by_index(tid - 1) : NULL;
}

static CPUState *first_cpu(void)
{
    return cpu_by_index(0);
}

/* ---- output ----------------------------------------------------------------------- */

static void send_bytes(GdbServer *s, const uint8_t *payload, size_t len)
{
    g_string_truncate(s->last, 0);
    gdb_frame_packet(s->last, payload, len);
    chr_fe_write_all(&s->fe, (const uint8_t *)s->last->str, s->last->len);
}

static void send_str(GdbServer *s, const char *payload)
{
    send_bytes(s, (const uint8_t *)payload, strlen(payload));
}

static void send_gstr(GdbServer *s, GString *g)
{
    send_bytes(s, (const uint8_t *)g->str, g->len);
}

static void send_stop_reply(GdbServer *s, int sig, CPUState *cpu)
{
    g_autofree char *r = cpu ? g_strdup_printf("T%02xthread:%x;", sig, tid_of(cpu))
                             : g_strdup_printf("S%02x", sig);
    send_str(s, r);
}

/* ---- VM control ------------------------------------------------------------------- */

static void sync_regs(CPUState *cpu)
{
    AccelState *accel = current_accel();

    if (accel && ACCEL_GET_CLASS(accel)->synchronize_state) {
        ACCEL_GET_CLASS(accel)->synchronize_state(cpu);
    }
}

/* Resume the VM; step_cpu (if any) stops it again after one instruction. */
static void gdb_resume(GdbServer *s, CPUState *step_cpu)
{
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        cpu_single_step(cpu, cpu == step_cpu ? SSTEP_ENABLE | SSTEP_NOIRQ : 0);
    }
    cpu_update_guest_debug_all();
    s->running = true;
    s->paused_by_gdb = false;
    vm_start();
}

static void gdb_vm_state_change(void *opaque, bool running, RunState state)
{
    GdbServer *s = opaque;
    CPUState *stopped = cpu_take_debug_stop_cpu();
    CPUState *cpu;

    if (running || !s->connected || !s->running) {
        return;
    }
    s->running = false;
    CPU_FOREACH(cpu) {
        cpu_single_step(cpu, 0);
    }
    cpu_update_guest_debug_all();
    if (stopped) {
        s->g_cpu = s->c_cpu = stopped;
    }
    if (state == RUN_STATE_SHUTDOWN) {
        send_str(s, "W00");
        return;
    }
    send_stop_reply(s, state == RUN_STATE_DEBUG ? GDB_SIGTRAP : GDB_SIGINT, s->c_cpu);
}

/* ---- breakpoints ------------------------------------------------------------------ */

static GdbSwBreakpoint *find_sw_bp(GdbServer *s, uint64_t addr, guint *index)
{
    for (guint i = 0; i < s->sw_bps->len; i++) {
        GdbSwBreakpoint *bp = &g_array_index(s->sw_bps, GdbSwBreakpoint, i);
        if (bp->addr == addr) {
            if (index) {
                *index = i;
            }
            return bp;
        }
    }
    return NULL;
}

static bool sw_bp_insert(GdbServer *s, uint64_t addr)
{
    CPUState *cpu = s->g_cpu;
    CPUClass *cc = CPU_GET_CLASS(cpu);
    static const uint8_t int3 = 0xcc;
    GdbSwBreakpoint bp = { .addr = addr };
    uint64_t page;

    if (find_sw_bp(s, addr, NULL)) {
        return true;
    }
    sync_regs(cpu);
    if (!cc->get_phys_page_debug || !cc->get_phys_page_debug(cpu, addr & ~0xfffULL, &page)) {
        return false;
    }
    bp.paddr = page + (addr & 0xfff);
    if (address_space_read(cpu->as, bp.paddr, &bp.orig, 1) != MEMTX_OK ||
        !cpu_breakpoint_insert(addr, BP_SW)) {
        return false;
    }
    if (address_space_write_rom(cpu->as, bp.paddr, &int3, 1) != MEMTX_OK) {
        cpu_breakpoint_remove(addr, BP_SW);
        return false;
    }
    g_array_append_val(s->sw_bps, bp);
    return true;
}

static bool sw_bp_remove(GdbServer *s, uint64_t addr)
{
    guint i;
    GdbSwBreakpoint *bp = find_sw_bp(s, addr, &i);

    if (!bp) {
        return false;
    }
    address_space_write_rom(s->g_cpu ? s->g_cpu->as : &address_space_memory, bp->paddr,
                            &bp->orig, 1);
    cpu_breakpoint_remove(addr, BP_SW);
    g_array_remove_index_fast(s->sw_bps, i);
    return true;
}

static void remove_all_breakpoints(GdbServer *s)
{
    while (s->sw_bps->len) {
        sw_bp_remove(s, g_array_index(s->sw_bps, GdbSwBreakpoint, 0).addr);
    }
    cpu_breakpoint_remove_all();
    cpu_update_guest_debug_all();
}

/* Z/z type,addr,kind */
static void handle_breakpoint(GdbServer *s, const char *p, bool insert)
{
    uint64_t type, addr, kind;
    bool ok;

    if (!gdb_parse_hex(&p, &type) || *p++ != ',' || !gdb_parse_hex(&p, &addr) ||
        *p++ != ',' || !gdb_parse_hex(&p, &kind)) {
        send_str(s, "E22");
        return;
    }
    switch (type) {
    case 0:
        ok = insert ? sw_bp_insert(s, addr) : sw_bp_remove(s, addr);
        break;
    case 1:
        ok = insert ? cpu_breakpoint_insert(addr, BP_HW) : cpu_breakpoint_remove(addr, BP_HW);
        break;
    default:
        send_str(s, "");             /* watchpoints: not supported, gdb falls back */
        return;
    }
    cpu_update_guest_debug_all();
    send_str(s, ok ? "OK" : "E22");
}

/* ---- registers and memory --------------------------------------------------------- */

static void handle_read_registers(GdbServer *s)
{
    CPUClass *cc = CPU_GET_CLASS(s->g_cpu);
    g_autoptr(GByteArray) regs = g_byte_array_new();
    g_autoptr(GString) out = g_string_new(NULL);

    sync_regs(s->g_cpu);
    for (int n = 0; cc->gdb_read_register(s->g_cpu, regs, n) > 0; n++) {
    }
    gdb_hex_append(out, regs->data, regs->len);
    send_gstr(s, out);
}

static void handle_write_registers(GdbServer *s, const char *hex)
{
    CPUClass *cc = CPU_GET_CLASS(s->g_cpu);
    size_t len = strlen(hex) / 2, off = 0;
    g_autofree uint8_t *buf = g_malloc(len + 1);

    if (!gdb_hex_decode(hex, buf, len)) {
        send_str(s, "E22");
        return;
    }
    sync_regs(s->g_cpu);
    for (int n = 0; off < len; n++) {
        int size = cc->gdb_write_register(s->g_cpu, buf + off, len - off, n);
        if (size <= 0) {
            break;
        }
        off += size;
    }
    send_str(s, "OK");
}

static void handle_read_register(GdbServer *s, const char *p)
{
    CPUClass *cc = CPU_GET_CLASS(s->g_cpu);
    g_autoptr(GByteArray) reg = g_byte_array_new();
    g_autoptr(GString) out = g_string_new(NULL);
    uint64_t n;

    if (!gdb_parse_hex(&p, &n) || n > 4096) {
        send_str(s, "E22");
        return;
    }
    sync_regs(s->g_cpu);
    if (cc->gdb_read_register(s->g_cpu, reg, n) <= 0) {
        send_str(s, "E14");
        return;
    }
    gdb_hex_append(out, reg->data, reg->len);
    send_gstr(s, out);
}

static void handle_write_register(GdbServer *s, const char *p)
{
    CPUClass *cc = CPU_GET_CLASS(s->g_cpu);
    uint64_t n;
    size_t len;
    g_autofree uint8_t *buf = NULL;

    if (!gdb_parse_hex(&p, &n) || n > 4096 || *p++ != '=') {
        send_str(s, "E22");
        return;
    }
    len = strlen(p) / 2;
    buf = g_malloc(len + 1);
    if (!gdb_hex_decode(p, buf, len)) {
        send_str(s, "E22");
        return;
    }
    sync_regs(s->g_cpu);
    send_str(s, cc->gdb_write_register(s->g_cpu, buf, len, n) > 0 ? "OK" : "E14");
}

/* m addr,len | M addr,len:hex | X addr,len:binary */
static void handle_memory(GdbServer *s, char cmd, const char *p, size_t pkt_len,
                          const uint8_t *pkt)
{
    uint64_t addr, len;
    g_autofree uint8_t *buf = NULL;

    if (!gdb_parse_hex(&p, &addr) || *p++ != ',' || !gdb_parse_hex(&p, &len)) {
        send_str(s, "E22");
        return;
    }
    sync_regs(s->g_cpu);
    if (cmd == 'm') {
        g_autoptr(GString) out = g_string_new(NULL);
        len = MIN(len, (GDB_MAX_PACKET - 16) / 2);
        buf = g_malloc(len + 1);
        if (!cpu_memory_rw_debug(s->g_cpu, addr, buf, len, false)) {
            send_str(s, "E14");
            return;
        }
        gdb_hex_append(out, buf, len);
        send_gstr(s, out);
        return;
    }
    if (*p++ != ':' || len > GDB_MAX_PACKET) {
        send_str(s, "E22");
        return;
    }
    buf = g_malloc(len + 1);
    if (cmd == 'M') {
        if (strlen(p) < 2 * len || !gdb_hex_decode(p, buf, len)) {
            send_str(s, "E22");
            return;
        }
    } else {
        size_t off = (const uint8_t *)p - pkt;
        if (pkt_len - off != len) {
            send_str(s, "E22");
            return;
        }
        memcpy(buf, p, len);
    }
    send_str(s, len == 0 || cpu_memory_rw_debug(s->g_cpu, addr, buf, len, true) ? "OK"
                                                                               : "E14");
}

/* ---- queries ---------------------------------------------------------------------- */

static void handle_xfer_features(GdbServer *s, const char *p)
{
    const char *xml = CPU_GET_CLASS(s->g_cpu)->gdb_target_xml ?
                      CPU_GET_CLASS(s->g_cpu)->gdb_target_xml(s->g_cpu) : NULL;
    uint64_t off, len;
    size_t total;
    g_autoptr(GString) out = g_string_new(NULL);

    if (!g_str_has_prefix(p, "target.xml:")) {
        send_str(s, "E00");
        return;
    }
    p += strlen("target.xml:");
    if (!xml || !gdb_parse_hex(&p, &off) || *p++ != ',' || !gdb_parse_hex(&p, &len)) {
        send_str(s, "E00");
        return;
    }
    total = strlen(xml);
    if (off >= total) {
        send_str(s, "l");
        return;
    }
    len = MIN(len, MIN(total - off, (uint64_t)GDB_MAX_PACKET / 2));
    g_string_append_c(out, off + len < total ? 'm' : 'l');
    g_string_append_len(out, xml + off, len);
    send_gstr(s, out);
}

static void handle_query(GdbServer *s, const char *p)
{
    CPUState *cpu;

    if (g_str_has_prefix(p, "qSupported")) {
        g_autofree char *r = g_strdup_printf("PacketSize=%x;qXfer:features:read+;"
                                             "QStartNoAckMode+;vContSupported+",
                                             GDB_MAX_PACKET);
        send_str(s, r);
    } else if (g_str_has_prefix(p, "qXfer:features:read:")) {
        handle_xfer_features(s, p + strlen("qXfer:features:read:"));
    } else if (!strcmp(p, "qAttached")) {
        send_str(s, "1");
    } else if (!strcmp(p, "qC")) {
        g_autofree char *r = g_strdup_printf("QC%x", tid_of(s->g_cpu));
        send_str(s, r);
    } else if (!strcmp(p, "qfThreadInfo")) {
        g_autoptr(GString) r = g_string_new("m");
        CPU_FOREACH(cpu) {
            g_string_append_printf(r, "%s%x", r->len > 1 ? "," : "", tid_of(cpu));
        }
        send_gstr(s, r);
    } else if (!strcmp(p, "qsThreadInfo")) {
        send_str(s, "l");
    } else if (g_str_has_prefix(p, "qThreadExtraInfo,")) {
        const char *q = p + strlen("qThreadExtraInfo,");
        int64_t tid;
        g_autoptr(GString) r = g_string_new(NULL);
        if (!gdb_parse_thread_id(&q, &tid) || !(cpu = cpu_of_tid(tid))) {
            send_str(s, "E22");
            return;
        }
        /* QEMU's text, "halted " padded to the width of "running". */
        g_autofree char *info = g_strdup_printf("CPU#%d [%s]", cpu->cpu_index,
                                                cpu->halted ? "halted " : "running");
        gdb_hex_append(r, (const uint8_t *)info, strlen(info));
        send_gstr(s, r);
    } else if (!strcmp(p, "QStartNoAckMode")) {
        send_str(s, "OK");
        s->no_ack = true;
    } else if (g_str_has_prefix(p, "qSymbol")) {
        send_str(s, "OK");
    } else {
        send_str(s, "");
    }
}

/* vCont;ACTION[:TID][;ACTION[:TID]]... */
static void handle_vcont(GdbServer *s, const char *p)
{
    CPUState *step = NULL;

    while (*p == ';') {
        char action = *++p;
        int64_t tid = 0;
        p++;
        if (action == 'C' || action == 'S') {
            uint64_t sig;
            if (!gdb_parse_hex(&p, &sig)) {
                send_str(s, "E22");
                return;
            }
        } else if (action != 'c' && action != 's') {
            send_str(s, "E22");
            return;
        }
        if (*p == ':') {
            p++;
            if (!gdb_parse_thread_id(&p, &tid)) {
                send_str(s, "E22");
                return;
            }
        }
        if ((action == 's' || action == 'S') && !step) {
            step = tid > 0 ? cpu_of_tid(tid) : s->c_cpu;
            if (!step) {
                send_str(s, "E22");
                return;
            }
        }
    }
    if (step) {
        s->c_cpu = s->g_cpu = step;
    }
    gdb_resume(s, step);
}

/* ---- dispatch --------------------------------------------------------------------- */

static void gdb_handle_packet(GdbServer *s, const uint8_t *pkt, size_t len)
{
    const char *p = (const char *)pkt;
    int64_t tid;
    CPUState *cpu;

    if (!s->g_cpu) {
        s->g_cpu = s->c_cpu = first_cpu();
    }
    if (!s->g_cpu) {
        send_str(s, "E01");
        return;
    }
    switch (p[0]) {
    case '?':
        send_stop_reply(s, GDB_SIGTRAP, s->c_cpu);
        break;
    case 'g':
        handle_read_registers(s);
        break;
    case 'G':
        handle_write_registers(s, p + 1);
        break;
    case 'p':
        handle_read_register(s, p + 1);
        break;
    case 'P':
        handle_write_register(s, p + 1);
        break;
    case 'm':
    case 'M':
    case 'X':
        handle_memory(s, p[0], p + 1, len, pkt);
        break;
    case 'c':
        gdb_resume(s, NULL);
        break;
    case 's':
        gdb_resume(s, s->c_cpu);
        break;
    case 'H': {
        const char *q = p + 2;
        if ((p[1] != 'g' && p[1] != 'c') || !gdb_parse_thread_id(&q, &tid)) {
            send_str(s, "E22");
            break;
        }
        cpu = tid > 0 ? cpu_of_tid(tid) : first_cpu();
        if (!cpu) {
            send_str(s, "E22");
            break;
        }
        *(p[1] == 'g' ? &s->g_cpu : &s->c_cpu) = cpu;
        send_str(s, "OK");
        break;
    }
    case 'T': {
        const char *q = p + 1;
        send_str(s, gdb_parse_thread_id(&q, &tid) && cpu_of_tid(tid) ? "OK" : "E22");
        break;
    }
    case 'Z':
    case 'z':
        handle_breakpoint(s, p + 1, p[0] == 'Z');
        break;
    case 'q':
    case 'Q':
        handle_query(s, p);
        break;
    case 'v':
        if (!strcmp(p, "vCont?")) {
            send_str(s, "vCont;c;C;s;S");
        } else if (g_str_has_prefix(p, "vCont;")) {
            handle_vcont(s, p + strlen("vCont"));
        } else {
            send_str(s, "");
        }
        break;
    case 'D':
        remove_all_breakpoints(s);
        send_str(s, "OK");
        gdb_resume(s, NULL);
        s->running = false;
        break;
    case 'k':
        remove_all_breakpoints(s);
        system_shutdown_request(SHUTDOWN_CAUSE_HOST_UI);
        break;
    default:
        send_str(s, "");
        break;
    }
}

/* ---- chardev frontend ------------------------------------------------------------- */

static int gdb_can_receive(void *opaque)
{
    return 4096;
}

static void gdb_receive(void *opaque, const uint8_t *buf, int len)
{
    GdbServer *s = opaque;

    for (int i = 0; i < len; i++) {
        switch (gdb_rx_byte(&s->rx, buf[i])) {
        case GDB_RX_PACKET:
            if (!s->no_ack) {
                chr_fe_write_all(&s->fe, (const uint8_t *)"+", 1);
            }
            gdb_handle_packet(s, s->rx.data, s->rx.len);
            break;
        case GDB_RX_BAD_PACKET:
            if (!s->no_ack) {
                chr_fe_write_all(&s->fe, (const uint8_t *)"-", 1);
            }
            break;
        case GDB_RX_NAK:
            if (!s->no_ack && s->last->len) {
                chr_fe_write_all(&s->fe, (const uint8_t *)s->last->str, s->last->len);
            }
            break;
        case GDB_RX_INTERRUPT:
            if (runstate_is_running()) {
                vm_stop(RUN_STATE_PAUSED);
            }
            break;
        case GDB_RX_ACK:
        case GDB_RX_NONE:
            break;
        }
    }
}

static void gdb_event(void *opaque, ChrEvent event)
{
    GdbServer *s = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        s->connected = true;
        s->no_ack = false;
        s->running = false;
        s->g_cpu = s->c_cpu = first_cpu();
        gdb_rx_init(&s->rx);
        /* As QEMU: a debugger attaching stops the machine. */
        if (runstate_is_running()) {
            vm_stop(RUN_STATE_PAUSED);
            s->paused_by_gdb = true;
        }
        break;
    case CHR_EVENT_CLOSED:
        s->connected = false;
        remove_all_breakpoints(s);
        if (!runstate_is_running() &&
            (s->running || s->paused_by_gdb || runstate_check(RUN_STATE_DEBUG))) {
            CPUState *cpu;
            CPU_FOREACH(cpu) {
                cpu_single_step(cpu, 0);
            }
            cpu_update_guest_debug_all();
            vm_start();
        }
        s->running = s->paused_by_gdb = false;
        break;
    default:
        break;
    }
}

bool gdbserver_start(const char *spec, Error **errp)
{
    g_autofree char *full = NULL;
    Chardev *chr;

    if (gdb) {
        error_setg(errp, "only one gdb stub is supported");
        return false;
    }
    if (!strcmp(spec, "none")) {
        return true;
    }
    /* As QEMU: "tcp::1234" means a listening socket that does not wait for gdb. */
    if ((g_str_has_prefix(spec, "tcp:") || g_str_has_prefix(spec, "unix:")) &&
        !strstr(spec, "server")) {
        full = g_strdup_printf("%s,server=on,wait=off", spec);
    } else {
        full = g_strdup(spec);
    }
    chr = chardev_new_from_legacy("gdb", full, errp);
    if (!chr) {
        if (errp && !*errp) {
            error_setg(errp, "gdb stub: no chardev for '%s'", spec);
        }
        return false;
    }
    gdb = g_new0(GdbServer, 1);
    gdb->sw_bps = g_array_new(false, false, sizeof(GdbSwBreakpoint));
    gdb->last = g_string_new(NULL);
    gdb_rx_init(&gdb->rx);
    if (!chr_fe_init(&gdb->fe, chr, errp)) {
        g_array_free(gdb->sw_bps, true);
        g_string_free(gdb->last, true);
        g_clear_pointer(&gdb, g_free);
        return false;
    }
    gdb->vmse = vm_state_change_add(gdb_vm_state_change, gdb);
    chr_fe_set_handlers(&gdb->fe, gdb_can_receive, gdb_receive, gdb_event, gdb);
    return true;
}
