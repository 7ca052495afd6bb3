/*
 * x86 disassembly for the monitor's x/i and xp/i, through capstone as QEMU does.
 * The helper only sees a read callback and a mode, so it runs without a VM (unit test).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "kite-config.h"
#include "monitor/disas.h"

#include <string.h>

#ifdef CONFIG_CAPSTONE
#include <capstone/capstone.h>

/* QEMU's listing: one line per insn with up to this many bytes before the mnemonic. */
#define LINE_BYTES 8
/* Longest x86 instruction is 15 bytes; QEMU keeps a 32-byte window of guest memory. */
#define WINDOW 32
/* QEMU does not read past the next 1 KiB boundary in one go (stays inside the page). */
#define READ_CHUNK 1024

bool disas_available(void)
{
    return true;
}

static void print_insn(GString *out, const cs_insn *insn)
{
    int n = insn->size;
    int first = n < LINE_BYTES ? n : LINE_BYTES;

    g_string_append_printf(out, "0x%08" G_GINT64_MODIFIER "x: ", (guint64)insn->address);
    for (int i = 0; i < first; i++) {
        g_string_append_printf(out, " %02x", insn->bytes[i]);
    }
    /* Pad short instructions so the mnemonics line up in one column. */
    g_string_append_printf(out, "%*s  %-8s %s\n", (LINE_BYTES - first) * 3, "",
                           insn->mnemonic, insn->op_str);
    for (int i = LINE_BYTES; i < n; i += LINE_BYTES) {
        g_string_append_printf(out, "0x%08" G_GINT64_MODIFIER "x: ",
                               (guint64)(insn->address + i));
        for (int k = i; k < n && k < i + LINE_BYTES; k++) {
            g_string_append_printf(out, " %02x", insn->bytes[k]);
        }
        g_string_append_c(out, '\n');
    }
}

bool disas_x86_monitor(GString *out, int mode_bits, uint64_t pc, int count,
                       DisasReadFn read, void *opaque)
{
    cs_mode mode = mode_bits == 64 ? CS_MODE_64 : mode_bits == 32 ? CS_MODE_32 : CS_MODE_16;
    uint8_t window[WINDOW];
    size_t have = 0;            /* bytes of window[] already read, starting at pc */
    cs_insn *insn;
    csh h;

    if (cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK) {
        return false;
    }
    /* QEMU's choices: AT&T syntax, and bytes that decode to nothing shown as ".byte". */
    cs_option(h, CS_OPT_SYNTAX, CS_OPT_SYNTAX_ATT);
    cs_option(h, CS_OPT_SKIPDATA, CS_OPT_ON);
    insn = cs_malloc(h);
    if (!insn) {
        cs_close(&h);
        return false;
    }
    for (;;) {
        /*
         * Top the window up before each instruction, as QEMU does: up to WINDOW bytes,
         * but a read starting below a 1 KiB boundary ends there (measured from pc, so a
         * refill may still cross it, as QEMU's does).  A read that fails ends the listing
         * at the instruction it was for - also when the bytes needed were already there.
         */
        uint64_t boundary = ((pc + have + 1) + READ_CHUNK - 1) & ~(uint64_t)(READ_CHUNK - 1);
        size_t want = MIN((uint64_t)(WINDOW - have), boundary - pc);
        const uint8_t *p = window;
        size_t left;
        uint64_t addr = pc;

        if (want && !read(opaque, pc + have, window + have, want)) {
            g_string_append_printf(out, "0x%08" G_GINT64_MODIFIER "x: unable to read memory\n",
                                   (guint64)pc);
            break;
        }
        have += want;
        left = have;
        if (cs_disasm_iter(h, &p, &left, &addr, insn)) {
            print_insn(out, insn);
            memmove(window, p, left);
            have = left;
            pc = addr;
            if (--count <= 0) {
                break;
            }
        } else if (have == WINDOW) {
            /* Cannot happen with SKIPDATA on; never loop forever on a full window. */
            break;
        }
    }
    cs_free(insn, 1);
    cs_close(&h);
    return true;
}

#else

bool disas_available(void)
{
    return false;
}

bool disas_x86_monitor(GString *out, int mode_bits, uint64_t pc, int count,
                       DisasReadFn read, void *opaque)
{
    (void)out; (void)mode_bits; (void)pc; (void)count; (void)read; (void)opaque;
    return false;
}

#endif
