/*
 * The gdb remote protocol framing (gdbstub/packet.c) and the x86 debug page walk
 * (target/i386/gdbstub.c), without a VM.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "gdbstub/packet.h"
#include "target/i386/gdbstub.h"
#include "kite/memory.h"
#include "target/i386/vcpu.h"
#include "hw/qdev.h"

static GdbRxEvent feed(GdbRx *rx, const char *s, size_t len)
{
    GdbRxEvent last = GDB_RX_NONE;

    for (size_t i = 0; i < len; i++) {
        GdbRxEvent e = gdb_rx_byte(rx, (uint8_t)s[i]);
        if (e != GDB_RX_NONE) {
            last = e;
        }
    }
    return last;
}

static void test_rx(void)
{
    GdbRx rx;

    gdb_rx_init(&rx);
    g_assert_cmpint(feed(&rx, "$g#67", 5), ==, GDB_RX_PACKET);
    g_assert_cmpstr((char *)rx.data, ==, "g");
    /* Bad checksum, bad checksum digits. */
    g_assert_cmpint(feed(&rx, "$g#68", 5), ==, GDB_RX_BAD_PACKET);
    g_assert_cmpint(feed(&rx, "$g#zz", 5), ==, GDB_RX_BAD_PACKET);
    /* Ctrl-C, acks, noise between packets. */
    g_assert_cmpint(gdb_rx_byte(&rx, 0x03), ==, GDB_RX_INTERRUPT);
    g_assert_cmpint(gdb_rx_byte(&rx, '+'), ==, GDB_RX_ACK);
    g_assert_cmpint(gdb_rx_byte(&rx, '-'), ==, GDB_RX_NAK);
    g_assert_cmpint(gdb_rx_byte(&rx, 'x'), ==, GDB_RX_NONE);
    /* A restart inside a packet drops the partial one. */
    g_assert_cmpint(feed(&rx, "$mABC$g#67", 10), ==, GDB_RX_PACKET);
    g_assert_cmpstr((char *)rx.data, ==, "g");
    /* Escapes: "}]" is ']' ^ 0x20 ^ 0x20... i.e. '}' 0x5d -> 0x7d; checksum over raw bytes. */
    {
        const char raw[] = "$X0,1:}]#";
        uint8_t sum = 0;
        g_autofree char *pkt = NULL;
        for (const char *p = raw + 1; *p != '#'; p++) {
            sum += (uint8_t)*p;
        }
        pkt = g_strdup_printf("%s%02x", raw, sum);
        g_assert_cmpint(feed(&rx, pkt, strlen(pkt)), ==, GDB_RX_PACKET);
        g_assert_cmpuint(rx.len, ==, 6);
        g_assert_cmpint(rx.data[5], ==, 0x7d);
    }
    /* Oversized: rejected, and the next packet is fine. */
    {
        g_autoptr(GString) big = g_string_new("$");
        for (int i = 0; i < GDB_MAX_PACKET + 10; i++) {
            g_string_append_c(big, 'A');
        }
        g_string_append(big, "#00");
        g_assert_cmpint(feed(&rx, big->str, big->len), ==, GDB_RX_BAD_PACKET);
        g_assert_cmpint(feed(&rx, "$g#67", 5), ==, GDB_RX_PACKET);
    }
}

static void test_frame_roundtrip(void)
{
    const uint8_t payload[] = { 'a', '$', '#', '}', '*', 0, 0xff };
    g_autoptr(GString) out = g_string_new(NULL);
    GdbRx rx;

    gdb_frame_packet(out, payload, sizeof(payload));
    g_assert_null(memchr(out->str + 1, '$', out->len - 1));
    gdb_rx_init(&rx);
    g_assert_cmpint(feed(&rx, out->str, out->len), ==, GDB_RX_PACKET);
    g_assert_cmpuint(rx.len, ==, sizeof(payload));
    g_assert_cmpmem(rx.data, rx.len, payload, sizeof(payload));
}

static void test_hex(void)
{
    const char *p = "1f2,x";
    uint64_t v;
    int64_t tid;
    uint8_t b[3];
    g_autoptr(GString) s = g_string_new(NULL);

    g_assert_true(gdb_parse_hex(&p, &v));
    g_assert_cmpuint(v, ==, 0x1f2);
    g_assert_cmpint(*p, ==, ',');
    p = "x";
    g_assert_false(gdb_parse_hex(&p, &v));
    p = "10000000000000000";                 /* 17 digits: overflows */
    g_assert_false(gdb_parse_hex(&p, &v));
    p = "-1";
    g_assert_true(gdb_parse_thread_id(&p, &tid));
    g_assert_cmpint(tid, ==, -1);
    p = "ffffffffff";
    g_assert_false(gdb_parse_thread_id(&p, &tid));
    g_assert_true(gdb_hex_decode("00aBff", b, 3));
    g_assert_cmpint(b[1], ==, 0xab);
    g_assert_false(gdb_hex_decode("0g", b, 1));
    gdb_hex_append(s, b, 3);
    g_assert_cmpstr(s->str, ==, "00abff");
}

/* Page tables in guest RAM: 4-level with a 2 MiB page, 32-bit with a 4 MiB page. */
static void test_debug_translate(void)
{
    MemoryRegion *ram = g_new0(MemoryRegion, 1);
    CPUX86State env = { 0 };
    uint64_t pa;
    uint64_t e;

    memory_init();
    memory_region_init_ram(ram, NULL, "ram", 16 * MiB, &error_abort);
    memory_region_add_subregion(get_system_memory(), 0, ram);

    /* 4-level: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
    e = 0x2003; address_space_write(&address_space_memory, 0x1000 + 8 * 1, &e, 8);
    e = 0x3003; address_space_write(&address_space_memory, 0x2000, &e, 8);
    e = 0x4003; address_space_write(&address_space_memory, 0x3000, &e, 8);
    e = 0x600083; address_space_write(&address_space_memory, 0x3000 + 8, &e, 8); /* 2M */
    e = 0x9003; address_space_write(&address_space_memory, 0x4000 + 8 * 5, &e, 8);
    env.cr[0] = 0x80000001;
    env.cr[3] = 0x1000;
    env.cr[4] = 0x20;
    env.efer = 0x500;
    g_assert_true(x86_debug_translate(&env, (1ULL << 39) + 5 * 4096 + 0x123, &pa));
    g_assert_cmphex(pa, ==, 0x9123);
    g_assert_true(x86_debug_translate(&env, (1ULL << 39) + 0x200000 + 0x1234, &pa));
    g_assert_cmphex(pa, ==, 0x601234);
    g_assert_false(x86_debug_translate(&env, (1ULL << 39) + 6 * 4096, &pa));
    g_assert_false(x86_debug_translate(&env, 0, &pa));
    /* Page tables pointing outside RAM: not mapped, no crash. */
    env.cr[3] = 0xfffff000;
    g_assert_false(x86_debug_translate(&env, 0x1000, &pa));

    /* 32-bit paging with PSE: PD at 0x5000, a 4 MiB page for 0x00400000. */
    e = 0x800083; address_space_write(&address_space_memory, 0x5000 + 4, &e, 4);
    env.cr[3] = 0x5000;
    env.cr[4] = 0x10;
    env.efer = 0;
    g_assert_true(x86_debug_translate(&env, 0x400000 + 0x4567, &pa));
    g_assert_cmphex(pa, ==, 0x804567);
    /* Paging off: identity. */
    env.cr[0] = 1;
    g_assert_true(x86_debug_translate(&env, 0x12345, &pa));
    g_assert_cmphex(pa, ==, 0x12345);
}

/* ---- target descriptions: x86-64 with long mode, i386 without ---- */

typedef struct XmlRegs {
    GPtrArray *names;
    GArray *bits;
    char *arch;
    bool in_arch;
} XmlRegs;

static void xml_start(GMarkupParseContext *ctx, const char *el, const char **names,
                      const char **values, gpointer opaque, GError **err)
{
    XmlRegs *x = opaque;
    const char *name = NULL, *bits = NULL;

    x->in_arch = !strcmp(el, "architecture");
    if (strcmp(el, "reg")) {
        return;
    }
    for (int i = 0; names[i]; i++) {
        if (!strcmp(names[i], "name")) {
            name = values[i];
        } else if (!strcmp(names[i], "bitsize")) {
            bits = values[i];
        }
    }
    g_assert_nonnull(name);
    g_assert_nonnull(bits);
    g_ptr_array_add(x->names, g_strdup(name));
    g_array_append_val(x->bits, (int){ atoi(bits) });
}

static void xml_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer opaque,
                     GError **err)
{
    XmlRegs *x = opaque;

    if (x->in_arch) {
        g_free(x->arch);
        x->arch = g_strndup(text, len);
    }
}

static void xml_end(GMarkupParseContext *ctx, const char *el, gpointer opaque, GError **err)
{
    ((XmlRegs *)opaque)->in_arch = false;
}

/*
 * The description gdb gets (qXfer:features:read:target.xml) is well-formed, names the
 * architecture, and lists the registers in exactly the order and sizes the g packet and
 * p/P use; writes land in the right field at the layout's width.
 */
static void check_layout(X86Vcpu *cpu, const char *arch, const char *first, int gpr_bits,
                         int nregs)
{
    static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL, NULL };
    CPUState *cs = CPU(cpu);
    CPUClass *cc = CPU_GET_CLASS(cs);
    CPUX86State *env = cpu->env;
    XmlRegs x = { g_ptr_array_new_with_free_func(g_free), g_array_new(false, false, sizeof(int)) };
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &x, NULL);
    const char *xml = cc->gdb_target_xml(cs);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    uint8_t val[8] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
    int n;

    /* The DOCTYPE line is not GMarkup's business. */
    const char *root = strstr(xml, "<target>");
    g_assert_nonnull(root);
    g_assert_true(g_markup_parse_context_parse(ctx, root, -1, NULL));
    g_assert_true(g_markup_parse_context_end_parse(ctx, NULL));
    g_markup_parse_context_free(ctx);
    g_assert_cmpstr(x.arch, ==, arch);
    g_assert_cmpstr(x.names->pdata[0], ==, first);
    g_assert_cmpint(x.names->len, ==, nregs);
    for (n = 0; n < (int)x.names->len; n++) {
        g_byte_array_set_size(buf, 0);
        g_assert_cmpint(cc->gdb_read_register(cs, buf, n) * 8, ==,
                        g_array_index(x.bits, int, n));
    }
    g_byte_array_set_size(buf, 0);
    g_assert_cmpint(cc->gdb_read_register(cs, buf, n), ==, 0);

    /* Register 1 is ecx in i386's order, rbx in x86-64's. */
    env->regs[R_ECX] = env->regs[R_EBX] = 0xaaaaaaaaaaaaaaaaULL;
    g_assert_cmpint(cc->gdb_write_register(cs, val, 8, 1), ==, gpr_bits / 8);
    if (gpr_bits == 64) {
        g_assert_cmphex(env->regs[R_EBX], ==, 0x1122334455667788ULL);
        g_assert_cmphex(env->regs[R_ECX], ==, 0xaaaaaaaaaaaaaaaaULL);
    } else {
        g_assert_cmphex(env->regs[R_ECX], ==, 0xaaaaaaaa55667788ULL);
        g_assert_cmphex(env->regs[R_EBX], ==, 0xaaaaaaaaaaaaaaaaULL);
    }
    /* The PC follows the general registers at the layout's width. */
    g_assert_cmpstr(x.names->pdata[gpr_bits == 64 ? 16 : 8], ==,
                    gpr_bits == 64 ? "rip" : "eip");
    g_byte_array_set_size(buf, 0);
    env->rip = 0x1234;
    g_assert_cmpint(cc->gdb_read_register(cs, buf, gpr_bits == 64 ? 16 : 8), ==, gpr_bits / 8);
    g_assert_cmpint(buf->data[0] | buf->data[1] << 8, ==, 0x1234);
    g_ptr_array_free(x.names, true);
    g_array_free(x.bits, true);
    g_free(x.arch);
}

static void test_target_xml(void)
{
    DeviceState *dev = qdev_new(X86_VCPU_TYPE_NAME("qemu64"));
    X86Vcpu *cpu = X86_VCPU(dev);

    object_property_set_str(OBJECT(dev), "bsp", "on", &error_abort);
    g_assert_true(qdev_realize(dev, NULL, &error_abort));
    /*
     * The accelerator fills CPUID when the machine starts; here, qemu64's leaf 80000001h
     * with long mode (EDX bit 29): gdb gets i386:x86-64, 16 GPRs and 16 XMMs (as QEMU's).
     */
    if (!cpu->cpuid) {
        cpu->cpuid = g_array_new(false, true, sizeof(X86CpuidEntry));
    }
    g_array_append_val(cpu->cpuid, ((X86CpuidEntry){ .function = 0x80000001,
                                                      .edx = 1u << 29 }));
    check_layout(cpu, "i386:x86-64", "rax", 64, 16 + 1 + 1 + 6 + 8 + 8 + 16 + 1 + 2 + 6);
    /* The same vCPU with CPUID.80000001h:EDX.LM clear: the i386 description. */
    for (guint i = 0; i < cpu->cpuid->len; i++) {
        X86CpuidEntry *e = &g_array_index(cpu->cpuid, X86CpuidEntry, i);
        if (e->function == 0x80000001) {
            e->edx &= ~(1u << 29);
        }
    }
    check_layout(cpu, "i386", "eax", 32, 8 + 1 + 1 + 6 + 8 + 8 + 8 + 1 + 5);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gdb/rx", test_rx);
    g_test_add_func("/gdb/frame-roundtrip", test_frame_roundtrip);
    g_test_add_func("/gdb/hex", test_hex);
    g_test_add_func("/gdb/x86-debug-translate", test_debug_translate);
    g_test_add_func("/gdb/x86-target-xml", test_target_xml);
    return g_test_run();
}
