/*
 * The x86 vCPU's vmstate (target/i386/machine.c): architectural state survives a save,
 * a reset and a load, including EFLAGS the interpreter keeps lazily; a truncated or
 * corrupted stream is refused, never trusted.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "target/i386/vcpu.h"
#include "hw/qdev.h"
#include "kite/memory.h"
#include "kite/vmstate.h"

static X86Vcpu *make_vcpu(void)
{
    DeviceState *dev = qdev_new(X86_VCPU_TYPE_NAME("qemu64"));

    object_property_set_str(OBJECT(dev), "bsp", "on", &error_abort);
    g_assert_true(qdev_realize(dev, NULL, &error_abort));
    return X86_VCPU(dev);
}

static void test_roundtrip(void)
{
    X86Vcpu *cpu = make_vcpu();
    CPUX86State *env = cpu->env;
    DeviceClass *dc = DEVICE_GET_CLASS(cpu);
    g_autoptr(GByteArray) buf = g_byte_array_new();
    size_t pos = 0;

    g_assert_nonnull(dc->vmsd);
    for (int i = 0; i < 16; i++) {
        env->regs[i] = 0x1111111111111111ULL * (i + 1);
    }
    env->rip = 0xffffffff81000000ULL;
    x86_cpu_set_eflags(env, 0x246 | 0x800);          /* IF ZF PF, OF */
    env->cr[0] = 0x80050033;
    env->cr[3] = 0x1234000;
    env->cr[4] = 0x6f0;
    env->efer = 0xd01;
    env->segs[R_CS] = (X86Segment){ 0, 0xffffffff, 0x10, 0xa9b };
    env->gdt = (X86DescTable){ 0xfffffe0000001000ULL, 0x7f };
    env->lstar = 0xffffffff81a00000ULL;
    env->kernel_gs_base = 0xffff888007a00000ULL;
    env->xmm[7].q[1] = 0xdeadbeefcafef00dULL;
    env->mxcsr = 0x1fa0;
    env->fpuc = 0x37f;
    env->mtrr_var[3][1] = 0xfc0000800ULL;
    env->nmi_blocked = true;
    x86_cpu_sync_state(cpu->interp);

    g_assert_cmpint(vmstate_save(buf, dc->vmsd, cpu, &error_abort), ==, 0);
    device_cold_reset(DEVICE(cpu));
    g_assert_cmphex(env->rip, !=, 0xffffffff81000000ULL);
    g_assert_true(vmstate_load(buf->data, buf->len, &pos, dc->vmsd, cpu, &error_abort));
    g_assert_cmpuint(pos, ==, buf->len);

    for (int i = 0; i < 16; i++) {
        g_assert_cmphex(env->regs[i], ==, 0x1111111111111111ULL * (i + 1));
    }
    g_assert_cmphex(env->rip, ==, 0xffffffff81000000ULL);
    g_assert_cmphex(x86_cpu_get_eflags(env), ==, 0x246 | 0x800);
    g_assert_cmphex(env->cr[0], ==, 0x80050033);
    g_assert_cmphex(env->cr[3], ==, 0x1234000);
    g_assert_cmphex(env->efer, ==, 0xd01);
    g_assert_cmphex(env->segs[R_CS].attr, ==, 0xa9b);
    g_assert_cmphex(env->gdt.base, ==, 0xfffffe0000001000ULL);
    g_assert_cmphex(env->lstar, ==, 0xffffffff81a00000ULL);
    g_assert_cmphex(env->kernel_gs_base, ==, 0xffff888007a00000ULL);
    g_assert_cmphex(env->xmm[7].q[1], ==, 0xdeadbeefcafef00dULL);
    g_assert_cmphex(env->mxcsr, ==, 0x1fa0);
    g_assert_cmphex(env->mtrr_var[3][1], ==, 0xfc0000800ULL);
    g_assert_true(env->nmi_blocked);
    /* hflags were recomputed: 64-bit code, paging, long mode. */
    g_assert_true(env->hflags & X86_HF_CS64);
    g_assert_true(env->hflags & X86_HF_LMA);

    /* Every truncation is refused. */
    for (size_t len = 0; len < buf->len; len++) {
        pos = 0;
        g_assert_false(vmstate_load(buf->data, len, &pos, dc->vmsd, cpu, NULL));
    }
    object_unparent(OBJECT(cpu));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    memory_init();
    g_test_add_func("/x86/vmstate/roundtrip", test_roundtrip);
    return g_test_run();
}
